//! Shared plumbing of the end-to-end tests: a scratch directory with a config
//! file, the `smo` process, synthetic posts, and polling helpers.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use smo_proto::{AccountId, PostId};

pub const SMO: &str = env!("CARGO_BIN_EXE_smo");

pub fn amqp_url() -> String {
    std::env::var("SMO_TEST_AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

pub fn database_url() -> String {
    std::env::var("SMO_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A short random suffix so parallel tests never share queues or databases.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", &uuid::Uuid::new_v4().simple().to_string()[..10])
}

/// A fresh PostgreSQL database for one test, dropped on drop.
pub struct TestDatabase {
    pub url: String,
    name: String,
}

impl TestDatabase {
    pub async fn create() -> Self {
        let admin = database_url();
        let pool = sqlx::PgPool::connect(&admin).await.unwrap_or_else(|e| {
            panic!("PostgreSQL at {admin} is required for this test (set SMO_TEST_DATABASE_URL): {e}")
        });
        let name = unique("smo_e2e").replace('-', "_");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&pool).await.unwrap();
        pool.close().await;
        let base = admin.rsplit_once('/').map(|(base, _)| base).unwrap();
        Self { url: format!("{base}/{name}"), name }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc"])
            .arg(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// Fails the test with a clear message when RabbitMQ is not reachable.
pub fn require_rabbitmq() {
    let url = amqp_url();
    let host_port = url.split('@').nth(1).and_then(|rest| rest.split('/').next()).unwrap_or("127.0.0.1:5672");
    std::net::TcpStream::connect(host_port).unwrap_or_else(|e| {
        panic!("RabbitMQ at {url} is required for this test (set SMO_TEST_AMQP_URL): {e}")
    });
}

/// Deletes the RabbitMQ queues of `accounts` (best effort).
pub fn delete_rabbit_queues(accounts: &[AccountId]) {
    for account in accounts {
        for stage in ["classify", "index", "community"] {
            let _ = Command::new("rabbitmqctl")
                .args(["-q", "delete_queue", &format!("smo.{stage}.{account}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// One account of a test: its id and the posts written to its file.
pub struct TestAccount {
    pub id: AccountId,
    pub file: PathBuf,
    /// Unique native ids written (duplicates in the file counted once).
    pub native_ids: Vec<String>,
}

impl TestAccount {
    pub fn post_ids(&self) -> Vec<PostId> {
        self.native_ids.iter().map(|id| PostId::derive("file:posts", id)).collect()
    }

    pub fn token(&self, index: usize) -> String {
        token(&self.id, index)
    }
}

fn token(account: &AccountId, index: usize) -> String {
    let tag: String = account.as_str().chars().filter(char::is_ascii_alphanumeric).collect();
    format!("zq{tag}n{index}")
}

const TEMPLATES: [&str; 8] = [
    "@brand my flight was cancelled and nobody answers, I want a refund now {t}",
    "@brand still waiting for my lost bag after five days, worst service ever {t}",
    "@brand how do I change the date of my booking? {t}",
    "thanks @brand the crew was lovely and the flight was great {t}",
    "Reading about airport design and city planning this morning {t}",
    "Watching the game tonight with friends, should be fun {t}",
    "@brand the app keeps crashing when I try to check in, this is unacceptable {t}",
    "New episode of the podcast is out, we talk about travel tips {t}",
];

/// Writes `count` unique posts for `account` into `dir/{account}.ndjson`,
/// followed by `duplicates` repeated lines (same ids) and, when
/// `malformed`, one broken line in the middle.
pub fn write_posts(
    dir: &Path,
    account: AccountId,
    count: usize,
    duplicates: usize,
    malformed: bool,
) -> TestAccount {
    let mut text = String::new();
    let mut native_ids = Vec::with_capacity(count);
    let mut lines = Vec::with_capacity(count);
    for i in 0..count {
        let native = format!("{account}-{i}");
        let body = TEMPLATES[i % TEMPLATES.len()].replace("{t}", &token(&account, i));
        let day = 1 + (i % 7);
        let line = serde_json::json!({
            "id": native,
            "text": body,
            "author_handle": format!("user{}", i % 97),
            "followers": (i * 37) % 5000,
            "created_at": format!("2026-11-0{day}T{:02}:{:02}:00Z", i % 24, i % 60),
            "likes": i % 13,
        })
        .to_string();
        native_ids.push(native);
        lines.push(line);
    }
    for (i, line) in lines.iter().enumerate() {
        writeln!(text, "{line}").unwrap();
        if malformed && i == count / 2 {
            writeln!(text, "{{\"id\": \"broken\", \"text\": ").unwrap();
        }
    }
    for line in lines.iter().take(duplicates) {
        writeln!(text, "{line}").unwrap();
    }
    let file = dir.join(format!("{account}.ndjson"));
    std::fs::write(&file, text).unwrap();
    TestAccount { id: account, file, native_ids }
}

/// Writes a config for `accounts` with the given bus and store URLs.
pub fn write_config(dir: &Path, bus_url: &str, store_url: &str, accounts: &[&TestAccount]) -> PathBuf {
    let mut text = format!(
        "data_dir = \"{}\"\n[bus]\nurl = \"{bus_url}\"\nprefetch = 1000\n[store]\nurl = \"{store_url}\"\n[index]\nbatch_max_posts = 1000\nbatch_max_wait_ms = 200\n",
        dir.join("data").display()
    );
    for account in accounts {
        write!(
            text,
            "[[accounts]]\nid = \"{}\"\nagents = [\"ana\", \"ben\", \"cho\"]\n[[accounts.tags]]\nname = \"refunds\"\nkeywords = [\"refund*\"]\n[[accounts.sources]]\nkind = \"file\"\nname = \"posts\"\npath = \"{}\"\n",
            account.id,
            account.file.display()
        )
        .unwrap();
    }
    let path = dir.join("smo.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The `smo` binary with none of the caller's `SMO_…` variables, so the
/// test's config file alone decides what it talks to.
pub fn smo_command() -> Command {
    let mut command = Command::new(SMO);
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("SMO_")) {
        command.env_remove(name);
    }
    command
}

/// A running `smo` process whose output goes to a log file.
pub struct SmoProcess {
    child: Mutex<Child>,
    pub log: PathBuf,
}

impl SmoProcess {
    pub fn start(config: &Path, args: &[&str], log_name: &str) -> Self {
        let log = config.with_file_name(format!("{log_name}.log"));
        let out = std::fs::OpenOptions::new().create(true).append(true).open(&log).unwrap();
        let child = smo_command()
            .arg("--config")
            .arg(config)
            .args(args)
            .env("RUST_LOG", "warn,smo=info,smo_bus=info")
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        Self { child: Mutex::new(child), log }
    }

    fn child(&self) -> std::sync::MutexGuard<'_, Child> {
        self.child.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    /// Fails the test with the log if the process has exited.
    pub fn assert_running(&self) {
        if let Some(status) = self.child().try_wait().unwrap() {
            panic!("smo exited early with {status}; log:\n{}", self.log_text());
        }
    }

    /// SIGTERM, then waits for a clean exit.
    pub fn terminate(self) {
        let pid = self.child().id();
        let status = Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let exited = self.child().try_wait().unwrap();
            if let Some(status) = exited {
                assert!(
                    status.success(),
                    "smo exited with {status} after SIGTERM; log:\n{}",
                    self.log_text()
                );
                return;
            }
            assert!(
                Instant::now() < deadline,
                "smo did not stop within 60s of SIGTERM; log:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGKILL: no chance to commit or ack.
    pub fn kill(self) {
        let mut child = self.child();
        child.kill().unwrap();
        child.wait().unwrap();
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for SmoProcess {
    fn drop(&mut self) {
        let mut child = self.child();
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// Runs `smo` to completion and returns its stdout; fails on a non-zero exit.
pub fn smo_output(config: &Path, args: &[&str]) -> String {
    let output = smo_command().arg("--config").arg(config).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "smo {args:?} failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Documents in `account`'s index (0 before the first commit).
pub fn indexed(index_dir: &Path, account: &AccountId) -> u64 {
    smo_index::IndexRoot::new(index_dir).open_reader(account).map(|reader| reader.num_docs()).unwrap_or(0)
}

/// Polls `done` every 200 ms until it holds, failing after `limit` or as
/// soon as one of `processes` has exited.
pub async fn wait_until<F, Fut>(limit: Duration, what: &str, processes: &[&SmoProcess], mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while !done().await {
        for process in processes {
            process.assert_running();
        }
        if Instant::now() > deadline {
            let logs: Vec<String> = processes.iter().map(|p| p.log_text()).collect();
            panic!("timed out after {limit:?} waiting for {what}; logs:\n{}", logs.join("\n----\n"));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Checks the exactly-once guarantees for `accounts` on a finished pipeline:
/// every post has exactly one document in its own index and none in the
/// others', a sample of them is found by its unique token only in its own
/// account, and every complaint or question has exactly one case.
pub async fn assert_exactly_once(index_dir: &Path, store_url: &str, accounts: &[&TestAccount]) -> u64 {
    let root = smo_index::IndexRoot::new(index_dir);
    let store = smo_store::connect(store_url).await.unwrap();
    let mut total_cases = 0;
    for account in accounts {
        let reader = root.open_reader(&account.id).unwrap();
        assert_eq!(reader.num_docs(), account.native_ids.len() as u64, "documents of {}", account.id);
        for id in account.post_ids() {
            assert_eq!(
                reader.count_by_id(&id).unwrap(),
                1,
                "post {id} of {} must be indexed once",
                account.id
            );
        }
        for other in accounts.iter().filter(|o| o.id != account.id) {
            let other_reader = root.open_reader(&other.id).unwrap();
            for id in account.post_ids().iter().step_by(50) {
                assert_eq!(other_reader.count_by_id(id).unwrap(), 0, "post {id} leaked into {}", other.id);
            }
            for i in (0..account.native_ids.len()).step_by(97) {
                let hits = other_reader.search(&account.token(i), 10).unwrap();
                assert!(hits.is_empty(), "{}'s token found in {}", account.id, other.id);
            }
        }
        for i in (0..account.native_ids.len()).step_by(97) {
            let hits = reader.search(&account.token(i), 10).unwrap();
            assert_eq!(hits.len(), 1, "token {} of {}", account.token(i), account.id);
        }

        let needs_response: HashSet<String> = reader
            .search("intent:complaint OR intent:question", 1_000_000)
            .unwrap()
            .into_iter()
            .map(|hit| hit.id.to_string())
            .collect();
        assert!(!needs_response.is_empty(), "the templates contain complaints");
        // Cases are per conversation (thread and customer): every complaint
        // or question belongs to exactly one case, each case's posts are
        // among them, and a case's opening post is one of its own posts.
        let cases = store.list_cases(&account.id, smo_store::CaseFilter::default()).await.unwrap();
        let mut case_posts: Vec<String> = Vec::new();
        for case in &cases {
            let messages = store.case_messages(&account.id, case.id).await.unwrap();
            assert!(!messages.is_empty(), "case {} of {} has no post", case.id, account.id);
            assert_eq!(messages.len() as u64, case.message_count, "case {} message count", case.id);
            assert!(
                messages.iter().any(|m| m.post_id == case.post_id),
                "case {} does not hold its opening post",
                case.id
            );
            case_posts.extend(messages.iter().map(|m| m.post_id.to_string()));
        }
        let unique_case_posts: HashSet<String> = case_posts.iter().cloned().collect();
        assert_eq!(case_posts.len(), unique_case_posts.len(), "a post is in two cases in {}", account.id);
        assert_eq!(
            unique_case_posts, needs_response,
            "the posts in cases of {} must be exactly its complaints and questions",
            account.id
        );
        assert!(cases.iter().all(|c| c.account == account.id));
        assert!(cases.iter().all(|c| c.assigned_agent.is_some()), "every case is assigned to an agent");
        total_cases += cases.len() as u64;
    }
    store.close().await;
    total_cases
}
