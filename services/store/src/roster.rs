//! Validation of the configured agent list before it reaches SQL.

use std::collections::HashSet;

use crate::{AgentSpec, Roster, StoreError, TeamSpec};

fn check_name(what: &str, name: &str) -> Result<(), StoreError> {
    if name.trim().is_empty() || name.chars().any(char::is_control) {
        return Err(StoreError::InvalidInput(format!(
            "{what} name {name:?} must be non-blank and free of control characters"
        )));
    }
    Ok(())
}

/// Skill lists as stored: trimmed, lowercase, each once, blanks dropped.
fn skills(values: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    values
        .iter()
        .map(|value| value.trim().to_lowercase())
        .filter(|value| !value.is_empty() && !value.chars().any(char::is_control))
        .filter(|value| seen.insert(value.clone()))
        .collect()
}

/// The roster to store: names checked (agents and teams each unique), team
/// members among the roster's agents, skills normalized.
pub(crate) fn validated_roster(roster: &Roster) -> Result<Roster, StoreError> {
    let mut names = HashSet::new();
    let mut agents = Vec::with_capacity(roster.agents.len());
    for agent in &roster.agents {
        check_name("agent", &agent.name)?;
        if !names.insert(agent.name.as_str()) {
            return Err(StoreError::InvalidInput(format!("agent {:?} is listed twice", agent.name)));
        }
        agents.push(AgentSpec {
            name: agent.name.clone(),
            languages: skills(&agent.languages),
            topics: skills(&agent.topics),
            capacity: agent.capacity,
        });
    }
    let mut team_names = HashSet::new();
    let mut teams = Vec::with_capacity(roster.teams.len());
    for team in &roster.teams {
        check_name("team", &team.name)?;
        if !team_names.insert(team.name.as_str()) {
            return Err(StoreError::InvalidInput(format!("team {:?} is listed twice", team.name)));
        }
        let mut members = Vec::new();
        for member in &team.members {
            if !names.contains(member.as_str()) {
                return Err(StoreError::InvalidInput(format!(
                    "team {:?} lists {member:?}, who is not among the agents",
                    team.name
                )));
            }
            if !members.contains(member) {
                members.push(member.clone());
            }
        }
        teams.push(TeamSpec { name: team.name.clone(), members });
    }
    Ok(Roster { agents, teams })
}

/// The agent names to make active, in rotation order: each name once, at its
/// first position. Blank names and names with control characters are refused,
/// since they would show up as unreadable assignees.
pub(crate) fn agent_roster(agents: &[String]) -> Result<Vec<String>, StoreError> {
    let mut seen = HashSet::new();
    let mut roster = Vec::with_capacity(agents.len());
    for name in agents {
        check_name("agent", name)?;
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

    #[test]
    fn rosters_normalize_skills_and_refuse_unknown_members() {
        let roster = Roster {
            agents: vec![AgentSpec {
                name: "ann".to_owned(),
                languages: vec![" ES ".to_owned(), "es".to_owned(), String::new()],
                topics: vec![],
                capacity: Some(2),
            }],
            teams: vec![TeamSpec { name: "billing".to_owned(), members: vec!["ann".to_owned()] }],
        };
        let valid = validated_roster(&roster).expect("valid");
        assert_eq!(valid.agents[0].languages, ["es"]);
        let mut unknown = roster.clone();
        unknown.teams[0].members.push("zed".to_owned());
        assert!(validated_roster(&unknown).is_err());
        let mut twice = roster;
        twice.agents.push(AgentSpec::named("ann"));
        assert!(validated_roster(&twice).is_err());
    }
}
