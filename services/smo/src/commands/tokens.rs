//! `smo tokens …`: API bearer tokens. The secret is printed once at
//! creation; the store keeps only its SHA-256 hash.

use std::path::Path;

use clap::{Args, Subcommand};
use smo_store::{ApiRole, NewToken};

/// Arguments of `smo tokens`.
#[derive(Debug, Args)]
pub struct TokensArgs {
    #[command(subcommand)]
    command: TokensCommand,
}

#[derive(Debug, Subcommand)]
enum TokensCommand {
    /// Create a token and print its secret (shown once).
    Create {
        /// admin, supervisor, agent or client.
        #[arg(long)]
        role: String,
        /// The account (all roles but admin).
        #[arg(long)]
        account: Option<String>,
        /// The agent an agent token acts as.
        #[arg(long)]
        agent: Option<String>,
        /// A label: who holds it.
        #[arg(long)]
        name: String,
    },
    /// List tokens (never their secrets).
    List {
        /// Only this account's.
        account: Option<String>,
    },
    /// Revoke a token by id.
    Revoke {
        /// The token's id.
        id: i64,
    },
}

/// Runs the subcommand.
pub async fn run(config: &Path, args: TokensArgs) -> anyhow::Result<()> {
    let settings = super::load_settings(config)?;
    std::fs::create_dir_all(&settings.data_dir)?;
    let store = smo_store::connect(&settings.store_url).await?;
    store.migrate().await?;
    let now = chrono::Utc::now();
    match args.command {
        TokensCommand::Create { role, account, agent, name } => {
            let role = ApiRole::parse(&role).ok_or_else(|| {
                anyhow::anyhow!("role must be admin, supervisor, agent or client, not {role:?}")
            })?;
            let account = account.map(|a| settings.account(&a).map(|s| s.id.clone())).transpose()?;
            let secret = smo_api::auth::generate_secret();
            let token =
                NewToken { token_hash: smo_api::auth::hash_secret(&secret), account, role, agent, name };
            let row = store.create_token(&token, now).await?;
            eprintln!("token {} created; its secret is shown only now:", row.id);
            println!("{secret}");
        }
        TokensCommand::List { account } => {
            let account = account.map(|a| settings.account(&a).map(|s| s.id.clone())).transpose()?;
            super::print_json(&store.list_tokens(account.as_ref()).await?)?;
        }
        TokensCommand::Revoke { id } => {
            if !store.revoke_token(id, now).await? {
                anyhow::bail!("no active token {id}");
            }
        }
    }
    store.close().await;
    Ok(())
}
