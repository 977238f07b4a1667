//! Moving through a list or scrolling a pane, shared by every tab: one clamp, and one
//! meaning of each movement command.

use crate::app::keymap::Command;

/// Lines a text pane (a detail, a raw record) scrolls for PgUp/PgDn.
pub const PANE_PAGE: u16 = 20;

/// How far a movement command moves a list cursor: a row, a page of `page` rows, or to
/// either end. `None` for commands that do not move.
pub fn delta(cmd: Command, page: usize) -> Option<isize> {
    let page = page.max(1) as isize;
    Some(match cmd {
        Command::Down => 1,
        Command::Up => -1,
        Command::PageDown => page,
        Command::PageUp => -page,
        Command::Top => isize::MIN / 2,
        Command::Bottom => isize::MAX / 2,
        _ => return None,
    })
}

/// `cursor` moved by `delta` and kept within `len` rows; `None` when there are no rows.
pub fn step(cursor: usize, len: usize, delta: isize) -> Option<usize> {
    if len == 0 {
        return None;
    }
    let last = len as isize - 1;
    Some((cursor as isize).saturating_add(delta).clamp(0, last) as usize)
}

/// A text pane's scroll offset after a movement command: a line, a page, or the top.
/// `None` for commands that do not scroll a pane.
pub fn scroll(offset: u16, cmd: Command) -> Option<u16> {
    Some(match cmd {
        Command::Down => offset.saturating_add(1),
        Command::Up => offset.saturating_sub(1),
        Command::PageDown => offset.saturating_add(PANE_PAGE),
        Command::PageUp => offset.saturating_sub(PANE_PAGE),
        Command::Top => 0,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_clamps_at_both_ends_and_needs_rows() {
        assert_eq!(step(0, 0, 1), None);
        assert_eq!(step(0, 3, 1), Some(1));
        assert_eq!(step(2, 3, 1), Some(2));
        assert_eq!(step(0, 3, -1), Some(0));
        assert_eq!(step(1, 3, delta(Command::Top, 10).unwrap()), Some(0));
        assert_eq!(step(1, 3, delta(Command::Bottom, 10).unwrap()), Some(2));
        // A cursor left past the end (the list shrank) lands on the last row.
        assert_eq!(step(9, 3, -1), Some(2));
    }

    #[test]
    fn pages_are_at_least_one_row_and_other_commands_do_not_move() {
        assert_eq!(delta(Command::PageDown, 0), Some(1));
        assert_eq!(delta(Command::PageUp, 7), Some(-7));
        assert_eq!(delta(Command::Open, 7), None);
        assert_eq!(scroll(3, Command::PageUp), Some(0));
        assert_eq!(scroll(3, Command::Top), Some(0));
        assert_eq!(scroll(3, Command::Down), Some(4));
        assert_eq!(scroll(3, Command::Bottom), None);
    }
}
