//! `smo agents …`: an account's agents and their settings in the store.
//! `sync` applies the configured roster (agents with skills and capacity,
//! teams) and community settings (routing rules, SLA policy, windows), which
//! every worker then reads; `list` shows agents with presence and load;
//! `presence` sets one agent online, away or offline (an agent going away
//! hands their assigned cases back to the queue).

use std::path::Path;

use anyhow::Context;
use clap::{Args, Subcommand};
use smo_community::CaseOpener;
use smo_store::Presence;

/// Arguments of `smo agents`.
#[derive(Debug, Args)]
pub struct AgentsArgs {
    #[command(subcommand)]
    command: AgentsCommand,
}

#[derive(Debug, Subcommand)]
enum AgentsCommand {
    /// Apply the configured agents, teams and community settings to the store.
    Sync {
        /// Accounts to sync; default: all configured.
        accounts: Vec<String>,
    },
    /// List an account's agents with presence and the cases they hold.
    List {
        /// The account.
        account: String,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Set an agent's presence: online, away or offline.
    Presence {
        /// The account.
        account: String,
        /// The agent.
        agent: String,
        /// online, away or offline.
        presence: String,
    },
}

/// Runs the subcommand.
pub async fn run(config: &Path, args: AgentsArgs) -> anyhow::Result<()> {
    let settings = super::load_settings(config)?;
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("creating data dir {}", settings.data_dir.display()))?;
    let store = smo_store::connect(&settings.store_url).await?;
    store.migrate().await.context("running store migrations")?;
    let now = chrono::Utc::now();
    match args.command {
        AgentsCommand::Sync { accounts } => {
            let opener = CaseOpener::new(store.clone());
            for account in &settings.accounts {
                if !accounts.is_empty() && !accounts.iter().any(|a| a == account.id.as_str()) {
                    continue;
                }
                store
                    .sync_roster(&account.id, &account.roster, now)
                    .await
                    .with_context(|| format!("syncing agents of {}", account.id))?;
                opener
                    .save_settings(&account.id, &account.community, now)
                    .await
                    .with_context(|| format!("saving community settings of {}", account.id))?;
                println!(
                    "{}: {} agents, {} teams, {} routing rules, SLA {}",
                    account.id,
                    account.roster.agents.len(),
                    account.roster.teams.len(),
                    account.community.routing.len(),
                    if account.community.sla.is_some() { "on" } else { "off" }
                );
            }
        }
        AgentsCommand::List { account, json } => {
            let account = settings.account(&account)?.id.clone();
            let agents = store.agents(&account).await?;
            if json {
                super::print_json(&agents)?;
            } else {
                for agent in agents.iter().filter(|a| a.active) {
                    let capacity = agent.capacity.map_or_else(|| "-".to_owned(), |c| c.to_string());
                    println!(
                        "{:<20} {:<8} {:>3}/{:<3} teams={} languages={} topics={}",
                        agent.name,
                        agent.presence.as_str(),
                        agent.open_cases,
                        capacity,
                        agent.teams.join(","),
                        agent.languages.join(","),
                        agent.topics.join(",")
                    );
                }
            }
        }
        AgentsCommand::Presence { account, agent, presence } => {
            let account = settings.account(&account)?.id.clone();
            let presence = Presence::parse(&presence).ok_or_else(|| {
                anyhow::anyhow!("presence must be online, away or offline, not {presence:?}")
            })?;
            let change = store.set_presence(&account, &agent, presence, now).await?;
            super::print_json(&change)?;
        }
    }
    store.close().await;
    Ok(())
}
