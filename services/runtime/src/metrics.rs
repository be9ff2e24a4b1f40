//! A minimal Prometheus registry: named counters and gauges with bounded label
//! values, rendered in the text exposition format. Kept in-house because the
//! pipeline needs a handful of counters, not a metrics framework.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// A metric family: its name, help text and type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricDef {
    /// Prometheus name, e.g. `smo_posts_published_total`.
    pub name: &'static str,
    /// One-line help.
    pub help: &'static str,
    /// Counter or gauge.
    pub kind: MetricKind,
}

/// The Prometheus types used here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// Only goes up.
    Counter,
    /// Goes up and down.
    Gauge,
}

type Labels = Vec<(&'static str, String)>;

/// A family's definition and its series by label set.
type Family = (MetricDef, BTreeMap<Labels, Arc<AtomicI64>>);

#[derive(Default)]
struct Registry {
    families: Mutex<BTreeMap<&'static str, Family>>,
}

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::default)
}

/// A handle to one labelled series; cheap to clone and to update.
#[derive(Debug, Clone)]
pub struct Series(Arc<AtomicI64>);

impl Series {
    /// Adds `n` (counters and gauges).
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n as i64, Ordering::Relaxed);
    }

    /// Sets the value (gauges).
    pub fn set(&self, value: i64) {
        self.0.store(value, Ordering::Relaxed);
    }

    /// Current value.
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The series of `def` with `labels` (created at zero on first use).
pub fn series(def: &MetricDef, labels: &[(&'static str, &str)]) -> Series {
    let labels: Labels = labels.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    let mut families = registry().families.lock().unwrap_or_else(|poison| poison.into_inner());
    let family = families.entry(def.name).or_insert_with(|| (*def, BTreeMap::new()));
    Series(family.1.entry(labels).or_default().clone())
}

/// Renders every registered series in the Prometheus text format.
pub fn render() -> String {
    let families = registry().families.lock().unwrap_or_else(|poison| poison.into_inner());
    let mut out = String::new();
    for (name, (def, all_series)) in families.iter() {
        let kind = match def.kind {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
        };
        let _ = writeln!(out, "# HELP {name} {}\n# TYPE {name} {kind}", def.help);
        for (labels, value) in all_series {
            let rendered: Vec<String> =
                labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
            let label_text =
                if rendered.is_empty() { String::new() } else { format!("{{{}}}", rendered.join(",")) };
            let _ = writeln!(out, "{name}{label_text} {}", value.load(Ordering::Relaxed));
        }
    }
    out
}

fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST_COUNTER: MetricDef = MetricDef {
        name: "smo_test_things_total",
        help: "Things seen in a test.",
        kind: MetricKind::Counter,
    };

    #[test]
    fn renders_prometheus_text_with_labels() {
        series(&TEST_COUNTER, &[("account", "acme")]).add(3);
        series(&TEST_COUNTER, &[("account", "acme")]).add(2);
        series(&TEST_COUNTER, &[("account", "b\"x")]).add(1);
        let text = render();
        assert!(text.contains("# TYPE smo_test_things_total counter"));
        assert!(text.contains("smo_test_things_total{account=\"acme\"} 5"), "{text}");
        assert!(text.contains("smo_test_things_total{account=\"b\\\"x\"} 1"), "{text}");
    }
}
