//! Widths on screen: how wide spans are, and text cut to fit a column.

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
}
