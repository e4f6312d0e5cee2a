//! What the command-line tests share.

/// The port in `serve`'s "lienthong: serving on http://ADDR" line, if this is that line.
pub fn served_port(line: &str) -> Option<u16> {
    line.strip_prefix("lienthong: serving on http://")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|addr| addr.rsplit(':').next())
        .and_then(|p| p.parse().ok())
}
