//! Moving a cursor through a list: one rule for every tab.

/// The index `delta` rows from `at` in a list of `len` rows, kept on the list: the first row
/// when moving up past it, the last when moving down past it; 0 for an empty list.
pub fn moved(at: usize, delta: isize, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    at.saturating_add_signed(delta).min(len - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_within_the_list() {
        assert_eq!(moved(0, 1, 3), 1);
        assert_eq!(moved(2, -1, 3), 1);
        assert_eq!(moved(1, 0, 3), 1);
    }

    #[test]
    fn stops_at_either_end() {
        assert_eq!(moved(0, -1, 3), 0);
        assert_eq!(moved(2, 1, 3), 2);
        assert_eq!(moved(1, -20, 3), 0);
        assert_eq!(moved(1, 20, 3), 2);
        assert_eq!(moved(0, isize::MIN, 3), 0);
        assert_eq!(moved(2, isize::MAX, 3), 2);
    }

    #[test]
    fn an_empty_or_shrunk_list() {
        assert_eq!(moved(0, 1, 0), 0);
        assert_eq!(moved(5, -1, 0), 0);
        assert_eq!(moved(1, 0, 1), 0);
        // A cursor left past the end by a shorter list comes back onto it.
        assert_eq!(moved(9, 0, 3), 2);
        assert_eq!(moved(9, -1, 3), 2);
    }
}
