//! `smo cases ACCOUNT`: the account's case queue.

use std::path::Path;

use clap::Args;
use smo_proto::CaseStatus;
use smo_store::{CaseFilter, CaseRow};

use super::search::one_line;

/// Arguments of `smo cases`.
#[derive(Debug, Args)]
pub struct CasesArgs {
    /// The account.
    account: String,
    /// Only cases in this status (new, queued, assigned, waiting_on_customer, resolved, closed).
    #[arg(long)]
    status: Option<String>,
    /// Only cases held by this agent.
    #[arg(long)]
    agent: Option<String>,
    /// Maximum rows.
    #[arg(long, default_value_t = 20)]
    limit: u32,
    /// Print cases as JSON.
    #[arg(long)]
    json: bool,
}

/// Prints the queue.
pub async fn run(config: &Path, args: CasesArgs) -> anyhow::Result<()> {
    let settings = super::load_settings(config)?;
    let account = settings.account(&args.account)?.id.clone();
    let status = match &args.status {
        Some(name) => {
            Some(CaseStatus::parse(name).ok_or_else(|| anyhow::anyhow!("unknown status {name:?}"))?)
        }
        None => None,
    };
    let store = smo_store::connect(&settings.store_url).await?;
    store.migrate().await?;
    let cases =
        store.list_cases(&account, CaseFilter { status, agent: args.agent, limit: Some(args.limit) }).await?;
    if args.json {
        return super::print_json(&cases);
    }
    print_cases(&cases);
    Ok(())
}

/// Prints cases as a table, one per line.
pub fn print_cases(cases: &[CaseRow]) {
    if cases.is_empty() {
        println!("no cases");
    }
    for case in cases {
        println!(
            "#{:<5} {:<9} prio {:.2}  {:<8} {:<10} @{:<12} {}",
            case.id,
            case.intent.as_str(),
            case.priority,
            case.assigned_agent.as_deref().unwrap_or("-"),
            case.status.as_str(),
            case.author_handle,
            one_line(&case.text_excerpt, 70)
        );
    }
}
