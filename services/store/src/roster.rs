//! Validation of the configured agent list before it reaches SQL.

use std::collections::HashSet;

use crate::StoreError;

/// The agent names to make active, in rotation order: each name once, at its
/// first position. Blank names and names with control characters are refused,
/// since they would show up as unreadable assignees.
pub(crate) fn agent_roster(agents: &[String]) -> Result<Vec<String>, StoreError> {
    let mut seen = HashSet::new();
    let mut roster = Vec::with_capacity(agents.len());
    for name in agents {
        if name.trim().is_empty() || name.chars().any(char::is_control) {
            return Err(StoreError::InvalidInput(format!(
                "agent name {name:?} must be non-blank and free of control characters"
            )));
        }
        if seen.insert(name.as_str()) {
            roster.push(name.clone());
        }
    }
    Ok(roster)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_keep_their_first_position_and_blanks_are_refused() {
        let names = ["ann", "bob", "ann"].map(String::from);
        assert_eq!(agent_roster(&names).ok(), Some(vec!["ann".into(), "bob".into()]));
        assert!(agent_roster(&[" ".to_owned()]).is_err());
        assert!(agent_roster(&["a\nb".to_owned()]).is_err());
    }
}
