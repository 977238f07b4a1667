//! `y` and `Y`: the cursor row of every tab, as its id and as JSON, for the clipboard.
