//! Charts drawn on the server as SVG: horizontal bars, each value written beside its bar
//! (so the numbers are read, not guessed, and a screen reader gets them from the title and
//! the text). No script, no inline style: presentation attributes only.

/// One bar of a group.
#[derive(Debug, Clone)]
pub struct Bar {
    pub series: String,
    pub value: f64,
    pub color: &'static str,
}

/// One group of bars, with its label.
#[derive(Debug, Clone)]
pub struct Group {
    pub label: String,
    pub bars: Vec<Bar>,
}

/// Text safe inside SVG markup.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A value as the pages write it: one decimal.
pub fn num1(x: f64) -> String {
    format!("{x:.1}")
}

const WIDTH: f64 = 900.0;
/// Where the bars start (the series' name is written before each bar).
const LABEL: f64 = 150.0;
const BAR: f64 = 18.0;
const GAP: f64 = 4.0;
const GROUP_GAP: f64 = 22.0;

/// A horizontal bar chart titled `title`, with a legend of the series.
pub fn bars(id: &str, title: &str, groups: &[Group]) -> String {
    let max = groups
        .iter()
        .flat_map(|g| g.bars.iter().map(|b| b.value))
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let scale = (WIDTH - LABEL - 70.0) / max;
    let mut series: Vec<(&str, &str)> = Vec::new();
    for b in groups.iter().flat_map(|g| &g.bars) {
        if !series.iter().any(|(s, _)| *s == b.series) {
            series.push((&b.series, b.color));
        }
    }
    let mut y = 34.0;
    let mut body = String::new();
    for g in groups {
        body.push_str(&format!(
            "<text x=\"0\" y=\"{:.0}\" font-size=\"13\" font-weight=\"600\" fill=\"#1b1f24\">{}</text>",
            y + 13.0,
            escape(&truncate(&g.label, 120))
        ));
        y += 20.0;
        for b in &g.bars {
            let w = (b.value * scale).max(1.0);
            body.push_str(&format!(
                "<g class=\"bar\" data-group=\"{}\" data-series=\"{}\" data-value=\"{}\">\
                 <title>{}: {} — {}</title>\
                 <text x=\"0\" y=\"{:.0}\" font-size=\"12\" fill=\"#4a5360\">{}</text>\
                 <rect x=\"{LABEL}\" y=\"{y:.0}\" width=\"{w:.1}\" height=\"{BAR}\" fill=\"{}\"></rect>\
                 <text x=\"{:.1}\" y=\"{:.0}\" font-size=\"12\" fill=\"#1b1f24\">{}</text></g>",
                escape(&g.label),
                escape(&b.series),
                num1(b.value),
                escape(&g.label),
                escape(&b.series),
                num1(b.value),
                y + BAR * 0.75,
                escape(&truncate(&b.series, 22)),
                b.color,
                LABEL + w + 6.0,
                y + BAR * 0.75,
                num1(b.value),
            ));
            y += BAR + GAP;
        }
        y += GROUP_GAP;
    }
    let mut legend = String::new();
    let mut x = 0.0;
    for (s, color) in &series {
        legend.push_str(&format!(
            "<rect x=\"{x:.0}\" y=\"4\" width=\"14\" height=\"14\" fill=\"{color}\"></rect>\
             <text x=\"{:.0}\" y=\"16\" font-size=\"12\" fill=\"#1b1f24\">{}</text>",
            x + 20.0,
            escape(s)
        ));
        x += 30.0 + 7.0 * s.chars().count() as f64;
    }
    let height = y + 4.0;
    format!(
        "<svg id=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-labelledby=\"{}-title\" \
         viewBox=\"0 0 {WIDTH} {height:.0}\" width=\"{WIDTH}\" height=\"{height:.0}\">\
         <title id=\"{}-title\">{}</title>{legend}{body}</svg>",
        escape(id),
        escape(id),
        escape(id),
        escape(title)
    )
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut t: String = s.chars().take(n - 1).collect();
    t.push('…');
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_is_written_and_text_is_escaped() {
        let svg = bars(
            "c",
            "A <chart>",
            &[Group {
                label: "Khai sinh & cư trú".into(),
                bars: vec![
                    Bar {
                        series: "median".into(),
                        value: 0.66,
                        color: "#0b4f8a",
                    },
                    Bar {
                        series: "limit".into(),
                        value: 3.0,
                        color: "#6b7480",
                    },
                ],
            }],
        );
        assert!(svg.contains("data-value=\"0.7\""));
        assert!(svg.contains(">3.0</text>"));
        assert!(svg.contains("Khai sinh &amp; cư trú"));
        assert!(svg.contains("A &lt;chart&gt;"));
        assert!(!svg.contains("style="));
    }
}
