// Parses each Mermaid file given on the command line with the real Mermaid parser; exit 1 if any fails.
import { JSDOM } from 'jsdom';
import { readFileSync } from 'node:fs';
const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false });
let failed = 0;
for (const f of process.argv.slice(2)) {
  const text = readFileSync(f, 'utf8');
  try {
    const r = await mermaid.parse(text);
    console.log(`ok ${f}: ${r.diagramType}`);
  } catch (e) {
    failed++;
    console.log(`invalid ${f}: ${String(e.message || e).split('\n').slice(0, 4).join(' | ')}`);
  }
}
process.exit(failed ? 1 : 0);
