//! The daily bar chart: the leak day, the spike days and the estimated days marked.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use time::{Date, Duration};

use crate::cost::detect;
use crate::cost::model::CostData;
use crate::fmt;
use crate::ui::Theme;
use crate::ui::layout;

use super::{Leak, window_days};

const EIGHTHS: [char; 8] = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇'];

/// A round number at or above `x` for the top of the scale: 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10ⁿ.
fn nice_top(x: f64) -> f64 {
    if !x.is_finite() || x <= 0.0 {
        return 1.0;
    }
    let base = 10f64.powf(x.log10().floor());
    [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0]
        .into_iter()
        .map(|f| f * base)
        .find(|v| *v >= x * 0.999_999)
        .unwrap_or(10.0 * base)
}

/// One line of cells, where labels are placed only on free cells.
struct Cells {
    cells: Vec<(char, Style)>,
    taken: Vec<bool>,
}

impl Cells {
    fn new(width: usize, style: Style) -> Self {
        Cells {
            cells: vec![(' ', style); width],
            taken: vec![false; width],
        }
    }

    fn set(&mut self, x: usize, c: char, style: Style) {
        if let Some(cell) = self.cells.get_mut(x) {
            *cell = (c, style);
        }
    }

    /// Writes `text` at `x` if it fits and its cells (with `margin` free cells either side)
    /// are free.
    fn place(&mut self, x: usize, text: &str, style: Style, margin: usize) -> bool {
        let n = text.chars().count();
        if x + n > self.cells.len() {
            return false;
        }
        let lo = x.saturating_sub(margin);
        let hi = (x + n + margin).min(self.taken.len());
        if self.taken[lo..hi].iter().any(|t| *t) {
            return false;
        }
        for (i, ch) in text.chars().enumerate() {
            self.cells[x + i] = (ch, style);
            self.taken[x + i] = true;
        }
        true
    }

    fn line(self) -> Line<'static> {
        let mut spans: Vec<Span<'static>> = Vec::new();
        let mut text = String::new();
        let mut style = None;
        for (c, s) in self.cells {
            if style != Some(s) && !text.is_empty() {
                spans.push(Span::styled(std::mem::take(&mut text), style.unwrap_or(s)));
            }
            style = Some(s);
            text.push(c);
        }
        if let Some(s) = style
            && !text.is_empty()
        {
            spans.push(Span::styled(text, s));
        }
        Line::from(spans)
    }
}

pub(super) fn chart(
    frame: &mut Frame,
    area: Rect,
    data: &CostData,
    window: (Date, Date),
    total: &detect::Row,
    leak: Leak,
    theme: &Theme,
) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let width = usize::from(area.width);
    let n = usize::try_from(window_days(window)).unwrap_or(0);
    if n == 0 {
        frame.render_widget(
            Paragraph::new(" no day in the window").style(theme.base),
            area,
        );
        return;
    }
    // Day by day over the window.
    let mut amounts = vec![0.0f64; n];
    let mut estimated = vec![false; n];
    for d in &data.total {
        if let Ok(i) = usize::try_from((d.date - window.0).whole_days())
            && i < n
        {
            if d.amount.is_finite() {
                amounts[i] += d.amount;
            }
            estimated[i] |= d.estimated;
        }
    }
    let spike: Vec<bool> = (0..n)
        .map(|i| {
            let d = window.0.checked_add(Duration::days(i as i64));
            d.is_some_and(|d| total.spike_days.contains(&d))
        })
        .collect();
    let leak_at = match leak {
        Leak::At(i) => Some(i),
        _ => None,
    };

    // Rows: the bars, then the dates, then the legend (when there is room).
    let (bars, legend) = match area.height {
        1 => (1, false),
        2 => (1, false),
        3 => (2, false),
        h => (usize::from(h) - 2, true),
    };
    let max = amounts.iter().copied().fold(0.0f64, f64::max);
    let threshold = total.threshold;
    let scale_for = if threshold.is_finite() && threshold > 0.0 && threshold <= max.max(1.0) * 4.0 {
        max.max(threshold)
    } else {
        max
    };
    let top = nice_top(scale_for);
    let unit = if data.unit.is_empty() {
        "USD"
    } else {
        data.unit.as_str()
    };
    let mut labels: Vec<(usize, String)> = vec![(0, format!("{unit} {}", fmt::short_money(top)))];
    if bars >= 4 {
        labels.push((
            bars / 2,
            fmt::short_money(top * (bars - bars / 2) as f64 / bars as f64),
        ));
    }
    if bars >= 2 {
        labels.push((bars - 1, "0".into()));
    }
    let label_w = labels
        .iter()
        .map(|(_, l)| l.chars().count())
        .max()
        .unwrap_or(0);
    // Too narrow for the scale: bars only.
    let label_w = if label_w + 1 + 10 > width { 0 } else { label_w };
    let x0 = if label_w > 0 { label_w + 1 } else { 0 };
    let avail = width.saturating_sub(x0);
    if avail == 0 {
        return;
    }

    // Bar width and gap: as wide as fits; too many days for one column each shows the latest.
    let (bw, gap, first) = [(5, 1), (4, 1), (3, 1), (2, 1), (1, 1), (1, 0)]
        .into_iter()
        .find(|(bw, g)| n * (bw + g) - g <= avail)
        .map_or((1, 0, n.saturating_sub(avail)), |(bw, g)| (bw, g, 0));
    let shown = n - first;
    let col = |i: usize| x0 + (i - first) * (bw + gap);

    let steps = bars * 8;
    let height_of = |x: f64| -> usize {
        if x <= 0.0 || !x.is_finite() {
            return 0;
        }
        let e = (x / top * steps as f64).round() as usize;
        e.clamp(1, steps)
    };
    // The threshold line: in the row holding the threshold, when that is inside the scale and
    // above the bottom row (where every day's bar would hide it).
    let threshold_row = (threshold.is_finite() && threshold > 0.0 && threshold <= top)
        .then(|| ((threshold / top * steps as f64) / 8.0).ceil() as usize)
        .and_then(|r| r.checked_sub(1))
        .filter(|r| *r >= 1 && *r < bars);

    let style_of = |i: usize| {
        if spike[i] {
            theme.danger
        } else if leak_at.is_some_and(|l| i >= l) {
            theme.warn
        } else {
            theme.accent
        }
    };
    let mut lines: Vec<Line<'static>> = Vec::new();
    for row in 0..bars {
        // `level`: this row's eighths start at `level * 8` from the bottom.
        let level = bars - 1 - row;
        let mut cells = Cells::new(width, theme.base);
        if label_w > 0 {
            if let Some((_, l)) = labels.iter().find(|(r, _)| *r == row) {
                let pad = label_w - l.chars().count();
                for (k, ch) in l.chars().enumerate() {
                    cells.set(pad + k, ch, theme.dim);
                }
                cells.set(label_w, '┤', theme.dim);
            } else {
                cells.set(label_w, '│', theme.dim);
            }
        }
        if threshold_row == Some(level) {
            for x in x0..x0 + (shown * (bw + gap)).saturating_sub(gap) {
                cells.set(x, '╌', theme.warn);
            }
        }
        for i in first..n {
            let e = height_of(amounts[i]);
            let glyph = if e >= (level + 1) * 8 {
                if estimated[i] { '▒' } else { '█' }
            } else if e > level * 8 {
                EIGHTHS[e - level * 8]
            } else {
                continue;
            };
            for k in 0..bw {
                cells.set(col(i) + k, glyph, style_of(i));
            }
        }
        lines.push(cells.line());
    }
    if area.height >= 2 {
        lines.push(date_row(width, window, n, first, bw, col, leak, theme));
    }
    if legend {
        lines.push(legend_line(
            width,
            threshold,
            threshold_row.is_some(),
            spike.iter().any(|s| *s),
            estimated[first..].iter().any(|e| *e),
            leak_at.is_some(),
            first,
            n,
            theme,
        ));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// Dates under the bars: the leak day (marked), the first and the last day, then weekly.
#[allow(clippy::too_many_arguments)]
fn date_row(
    width: usize,
    window: (Date, Date),
    n: usize,
    first: usize,
    bw: usize,
    col: impl Fn(usize) -> usize,
    leak: Leak,
    theme: &Theme,
) -> Line<'static> {
    let date = |i: usize| window.0.checked_add(Duration::days(i as i64));
    let centre = |i: usize| col(i) + (bw - 1) / 2;
    // The last day's date, under the end of its bar.
    let last = |cells: &mut Cells| {
        if let Some(d) = date(n - 1) {
            let end = col(n - 1) + bw;
            cells.place(end.saturating_sub(5), &fmt::month_day(d), theme.dim, 1);
        }
    };
    let mut cells = Cells::new(width, theme.base);
    match leak {
        Leak::At(i) if i >= first => {
            let x = centre(i);
            let label = format!("leak {}", date(i).map(fmt::month_day).unwrap_or_default());
            let after = format!("▲ {label}");
            let before = format!("{label} ▲");
            let len = before.chars().count();
            let place = |cells: &mut Cells, margin_after: usize| {
                cells.place(x, &after, theme.leaked, margin_after)
                    || (x + 1 >= len && cells.place(x + 1 - len, &before, theme.leaked, 1))
            };
            // The label after the marker or before it, and the last date; else the label
            // without the last date; else the marker alone, and the last date if it fits.
            last(&mut cells);
            if !place(&mut cells, 2) {
                cells = Cells::new(width, theme.base);
                if !place(&mut cells, 1) {
                    cells.place(x, "▲", theme.leaked, 0);
                    last(&mut cells);
                }
            }
        }
        Leak::At(_) | Leak::Before(_) => {
            let text = match leak {
                Leak::Before(d) => format!("◀ leak {}", fmt::iso_day(d)),
                _ => "◀ leak".into(),
            };
            cells.place(0, &text, theme.leaked, 1);
            last(&mut cells);
        }
        Leak::After(_) | Leak::Unknown => last(&mut cells),
    }
    if let Some(d) = date(first) {
        cells.place(col(first), &fmt::month_day(d), theme.dim, 1);
    }
    // Weekly dates back from the last day, where they fit.
    let mut i = n - 1;
    while i >= first + 7 {
        i -= 7;
        if let Some(d) = date(i) {
            let x = centre(i).saturating_sub(2);
            cells.place(x, &fmt::month_day(d), theme.dim, 1);
        }
    }
    cells.line()
}

#[allow(clippy::too_many_arguments)]
fn legend_line(
    width: usize,
    threshold: f64,
    line_drawn: bool,
    any_spike: bool,
    estimated: bool,
    leak: bool,
    first: usize,
    n: usize,
    theme: &Theme,
) -> Line<'static> {
    let rule = if threshold.is_finite() {
        format!("USD {}/day", fmt::money(threshold))
    } else {
        "the rule".into()
    };
    let mut items: Vec<Vec<Span<'static>>> = Vec::new();
    let item = |mark: &str, style: Style, text: String| {
        vec![
            Span::styled(mark.to_string(), style),
            Span::styled(format!(" {text}"), theme.base),
        ]
    };
    if line_drawn {
        items.push(item("╌", theme.warn, format!("spike threshold {rule}")));
        // The line says the rule; the spike colour needs saying only when a day has it.
        if any_spike {
            items.push(item("█", theme.danger, "spike".into()));
        }
    } else {
        items.push(item("█", theme.danger, format!("spike (> {rule})")));
    }
    if first > 0 {
        items.push(vec![Span::styled(
            format!("latest {} of {n} days", n - first),
            theme.warn,
        )]);
    }
    if leak {
        items.push(item("█", theme.warn, "since leak".into()));
        items.push(item("█", theme.accent, "before".into()));
    }
    if estimated {
        items.push(item("▒", theme.dim, "estimated".into()));
    }
    let mut spans = vec![Span::raw(" ")];
    let mut used = 1;
    for it in items {
        let w = layout::spans_width(&it) + 3;
        if used + w > width {
            break;
        }
        used += w;
        spans.extend(it);
        spans.push(Span::raw("   "));
    }
    Line::from(spans)
}
