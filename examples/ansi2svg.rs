//! Turns a terminal capture with colours (`tmux capture-pane -e -p`) into an SVG picture of
//! the screen, for the README's screenshots (`scripts/screenshots` converts it to PNG).
//!
//!   cargo run --example ansi2svg < screen.ansi > screen.svg
//!
//! Understands the SGR sequences tmux writes: reset, bold, dim, italic, underline, reverse,
//! the 16 named colours, 256-colour indices and 24-bit colours, foreground and background.
//! Every cell is one fixed-width column (wide characters are rare on keyspill's screens and
//! are drawn in their one cell).

use std::fmt::Write as _;
use std::io::Read;

const CELL_W: f64 = 9.0;
const CELL_H: f64 = 18.0;
const FG: (u8, u8, u8) = (0xd0, 0xd0, 0xd0);
const BG: (u8, u8, u8) = (0x12, 0x14, 0x18);

/// The 16 named colours (a dark, readable palette).
const NAMED: [(u8, u8, u8); 16] = [
    (0x20, 0x22, 0x28),
    (0xe0, 0x5a, 0x5a),
    (0x6c, 0xc0, 0x6c),
    (0xe0, 0xc0, 0x5a),
    (0x5a, 0x9c, 0xe6),
    (0xc0, 0x7a, 0xe0),
    (0x5a, 0xc8, 0xc8),
    (0xc8, 0xc8, 0xc8),
    (0x70, 0x74, 0x7c),
    (0xff, 0x7a, 0x7a),
    (0x8c, 0xe6, 0x8c),
    (0xff, 0xe0, 0x7a),
    (0x7a, 0xb8, 0xff),
    (0xe0, 0x9a, 0xff),
    (0x7a, 0xe6, 0xe6),
    (0xff, 0xff, 0xff),
];

#[derive(Clone, Copy, PartialEq)]
struct Style {
    fg: Option<(u8, u8, u8)>,
    bg: Option<(u8, u8, u8)>,
    bold: bool,
    dim: bool,
    italic: bool,
    underline: bool,
    reverse: bool,
}

impl Style {
    const PLAIN: Style = Style {
        fg: None,
        bg: None,
        bold: false,
        dim: false,
        italic: false,
        underline: false,
        reverse: false,
    };
}

fn index_colour(n: u16) -> (u8, u8, u8) {
    match n {
        0..=15 => NAMED[n as usize],
        16..=231 => {
            let n = n - 16;
            let level = |v: u16| if v == 0 { 0 } else { (55 + v * 40) as u8 };
            (level(n / 36), level((n / 6) % 6), level(n % 6))
        }
        _ => {
            let v = (8 + (n.saturating_sub(232)) * 10).min(255) as u8;
            (v, v, v)
        }
    }
}

/// Applies one SGR parameter list to `s`.
fn apply(s: &mut Style, params: &[u16]) {
    let mut i = 0;
    if params.is_empty() {
        *s = Style::PLAIN;
    }
    while i < params.len() {
        match params[i] {
            0 => *s = Style::PLAIN,
            1 => s.bold = true,
            2 => s.dim = true,
            3 => s.italic = true,
            4 => s.underline = true,
            7 => s.reverse = true,
            22 => {
                s.bold = false;
                s.dim = false;
            }
            23 => s.italic = false,
            24 => s.underline = false,
            27 => s.reverse = false,
            c @ 30..=37 => s.fg = Some(NAMED[(c - 30) as usize]),
            39 => s.fg = None,
            c @ 40..=47 => s.bg = Some(NAMED[(c - 40) as usize]),
            49 => s.bg = None,
            c @ 90..=97 => s.fg = Some(NAMED[(c - 90 + 8) as usize]),
            c @ 100..=107 => s.bg = Some(NAMED[(c - 100 + 8) as usize]),
            c @ (38 | 48) => {
                let colour = match params.get(i + 1) {
                    Some(5) => {
                        let n = params.get(i + 2).copied().unwrap_or(0);
                        i += 2;
                        Some(index_colour(n))
                    }
                    Some(2) => {
                        let get = |k: usize| params.get(i + k).copied().unwrap_or(0).min(255) as u8;
                        let rgb = (get(2), get(3), get(4));
                        i += 4;
                        Some(rgb)
                    }
                    _ => None,
                };
                if c == 38 {
                    s.fg = colour;
                } else {
                    s.bg = colour;
                }
            }
            _ => {}
        }
        i += 1;
    }
}

/// The screen as rows of styled cells.
fn parse(input: &str) -> Vec<Vec<(char, Style)>> {
    let mut rows = Vec::new();
    for line in input.lines() {
        let mut row = Vec::new();
        let mut style = Style::PLAIN;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                if chars.peek() == Some(&'[') {
                    chars.next();
                    let mut seq = String::new();
                    for d in chars.by_ref() {
                        if d.is_ascii_alphabetic() {
                            if d == 'm' {
                                let params: Vec<u16> = seq
                                    .split(';')
                                    .filter(|p| !p.is_empty())
                                    .filter_map(|p| p.parse().ok())
                                    .collect();
                                apply(&mut style, &params);
                            }
                            break;
                        }
                        seq.push(d);
                    }
                }
                continue;
            }
            if c.is_control() {
                continue;
            }
            row.push((c, style));
        }
        rows.push(row);
    }
    rows
}

fn hex((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

fn escape(c: char) -> String {
    match c {
        '&' => "&amp;".into(),
        '<' => "&lt;".into(),
        '>' => "&gt;".into(),
        '"' => "&quot;".into(),
        _ => c.to_string(),
    }
}

fn svg(rows: &[Vec<(char, Style)>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let (w, h) = (
        cols as f64 * CELL_W + 16.0,
        rows.len() as f64 * CELL_H + 16.0,
    );
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}">"#
    );
    let _ = writeln!(
        out,
        r#"<rect width="100%" height="100%" fill="{}"/>"#,
        hex(BG)
    );
    let _ = writeln!(
        out,
        r#"<g font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="14" xml:space="preserve">"#
    );
    for (y, row) in rows.iter().enumerate() {
        let top = 8.0 + y as f64 * CELL_H;
        // Backgrounds first, in runs of one colour.
        let mut x = 0;
        while x < row.len() {
            let (_, s) = row[x];
            let bg = if s.reverse { s.fg.or(Some(FG)) } else { s.bg };
            let mut end = x + 1;
            while end < row.len() {
                let t = row[end].1;
                let next = if t.reverse { t.fg.or(Some(FG)) } else { t.bg };
                if next != bg {
                    break;
                }
                end += 1;
            }
            if let Some(c) = bg {
                let _ = writeln!(
                    out,
                    r#"<rect x="{}" y="{top}" width="{}" height="{CELL_H}" fill="{}"/>"#,
                    8.0 + x as f64 * CELL_W,
                    (end - x) as f64 * CELL_W,
                    hex(c)
                );
            }
            x = end;
        }
        // Then text, one element per run of one style.
        let mut x = 0;
        while x < row.len() {
            let s = row[x].1;
            let mut end = x + 1;
            while end < row.len() && row[end].1 == s {
                end += 1;
            }
            let text: String = row[x..end].iter().map(|(c, _)| escape(*c)).collect();
            if !text.trim().is_empty() {
                let fg = if s.reverse {
                    s.bg.unwrap_or(BG)
                } else {
                    s.fg.unwrap_or(FG)
                };
                let mut attrs = format!(r#"fill="{}""#, hex(fg));
                if s.bold {
                    attrs.push_str(r#" font-weight="bold""#);
                }
                if s.dim {
                    attrs.push_str(r#" fill-opacity="0.6""#);
                }
                if s.italic {
                    attrs.push_str(r#" font-style="italic""#);
                }
                if s.underline {
                    attrs.push_str(r#" text-decoration="underline""#);
                }
                let _ = writeln!(
                    out,
                    r#"<text x="{}" y="{}" textLength="{}" lengthAdjust="spacingAndGlyphs" {attrs}>{text}</text>"#,
                    8.0 + x as f64 * CELL_W,
                    top + CELL_H - 5.0,
                    (end - x) as f64 * CELL_W
                );
            }
            x = end;
        }
    }
    out.push_str("</g>\n</svg>\n");
    out
}

fn main() {
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        eprintln!("ansi2svg: cannot read stdin: {e}");
        std::process::exit(1);
    }
    print!("{}", svg(&parse(&input)));
}
