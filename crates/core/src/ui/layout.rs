//! Widths on screen: how wide spans are, text cut to fit a column, and text wrapped with a
//! hanging indent.

use ratatui::layout::Constraint;
use ratatui::text::Span;

/// Screen columns the spans take together.
pub fn spans_width(spans: &[Span]) -> usize {
    spans.iter().map(Span::width).sum()
}

/// Cuts `text` to `width` screen columns, ending with `…` when cut (a wide character that
/// would not fit whole is left out). Counts columns, not characters: for the screen; plain
/// text has `fmt::clip_chars`.
pub fn fit(text: &str, width: usize) -> String {
    if Span::raw(text).width() <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = Span::raw(c.to_string()).width();
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// Columns the fixed-width (`Length`) columns of a table take, each with the one-column gap
/// before it; other constraints count nothing.
pub fn fixed_columns_width(widths: &[Constraint]) -> usize {
    widths
        .iter()
        .map(|c| match c {
            Constraint::Length(n) => usize::from(*n) + 1,
            _ => 0,
        })
        .sum()
}

/// Splits `text` into pieces: the first at most `first` columns wide, the others at most
/// `rest`, broken at spaces where possible (a word longer than a line is cut). Leading spaces
/// stay on the first piece; runs of spaces inside are kept.
pub fn wrap_hanging(text: &str, first: usize, rest: usize) -> Vec<String> {
    let lead = text.len() - text.trim_start_matches(' ').len();
    let mut out = Vec::new();
    let mut line = " ".repeat(lead);
    let mut used = lead;
    let limit = |out: &Vec<String>| if out.is_empty() { first } else { rest }.max(1);
    for (n, word) in text[lead..].split(' ').enumerate() {
        let w = Span::raw(word).width();
        if n > 0 {
            if used > 0 && used + 1 + w > limit(&out) {
                out.push(std::mem::take(&mut line));
                used = 0;
            } else {
                line.push(' ');
                used += 1;
            }
        }
        for c in word.chars() {
            let cw = Span::raw(c.to_string()).width();
            if used > 0 && used + cw > limit(&out) {
                out.push(std::mem::take(&mut line));
                used = 0;
            }
            line.push(c);
            used += cw;
        }
    }
    if !line.is_empty() || out.is_empty() {
        out.push(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_width_counts_columns() {
        assert_eq!(spans_width(&[]), 0);
        assert_eq!(spans_width(&[Span::raw("abc"), Span::raw("")]), 3);
        assert_eq!(spans_width(&[Span::raw("⚠ "), Span::raw("日本")]), 6);
    }

    #[test]
    fn fit_keeps_what_fits_and_marks_a_cut() {
        assert_eq!(fit("EC2", 3), "EC2");
        assert_eq!(fit("EC2", 10), "EC2");
        assert_eq!(fit("", 0), "");
        assert_eq!(fit("EC2", 0), "");
        assert_eq!(fit("EC2", 1), "…");
        assert_eq!(fit("Amazon", 4), "Ama…");
        // A wide character that would not fit whole is dropped.
        assert_eq!(fit("日本語", 4), "日…");
        assert_eq!(fit("日本語", 5), "日本…");
        assert_eq!(fit("日本語", 6), "日本語");
    }

    #[test]
    fn fixed_columns_count_their_gaps() {
        assert_eq!(fixed_columns_width(&[]), 0);
        assert_eq!(
            fixed_columns_width(&[
                Constraint::Min(1),
                Constraint::Length(10),
                Constraint::Length(5)
            ]),
            17
        );
    }

    #[test]
    fn wrap_hanging_breaks_at_spaces_with_a_narrower_first_line() {
        assert_eq!(wrap_hanging("", 5, 5), vec![String::new()]);
        assert_eq!(
            wrap_hanging("one two three", 7, 5),
            vec!["one two", "three"]
        );
        assert_eq!(
            wrap_hanging("one two three", 3, 20),
            vec!["one", "two three"]
        );
        // A word longer than a line is cut; leading spaces stay on the first piece.
        assert_eq!(wrap_hanging("  abcdefgh", 5, 4), vec!["  abc", "defg", "h"]);
        // Widths count columns: each of these characters takes two.
        assert_eq!(wrap_hanging("日本 語", 4, 4), vec!["日本", "語"]);
        // A width of 0 still makes progress, a column at a time.
        assert_eq!(wrap_hanging("ab", 0, 0), vec!["a", "b"]);
    }
}
