//! A minimal Prometheus registry: named counters, gauges and histograms with
//! bounded label values, rendered in the text exposition format. Kept
//! in-house because the pipeline needs a handful of series, not a metrics
//! framework.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

type Labels = Vec<(&'static str, String)>;

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
    /// Distribution of observations; see [`histogram`].
    Histogram,
}

/// Upper bounds (seconds) of the histogram buckets: from a millisecond to a
/// minute, enough for batch handling and end-to-end latencies.
pub const LATENCY_BUCKETS: [f64; 16] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 40.0, 60.0];

/// A latency histogram: counts per bucket of [`LATENCY_BUCKETS`] (plus one
/// for larger values), the sum and the count.
#[derive(Debug, Default)]
pub struct HistogramData {
    buckets: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    sum_micros: AtomicU64,
}

/// A handle to one labelled histogram series.
#[derive(Debug, Clone)]
pub struct Histogram(Arc<HistogramData>);

impl Histogram {
    /// Records one observation in seconds.
    pub fn observe(&self, seconds: f64) {
        let seconds = if seconds.is_finite() { seconds.max(0.0) } else { 0.0 };
        let index =
            LATENCY_BUCKETS.iter().position(|bound| seconds <= *bound).unwrap_or(LATENCY_BUCKETS.len());
        self.0.buckets[index].fetch_add(1, Ordering::Relaxed);
        self.0.sum_micros.fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.0.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }

    /// Upper bound of the bucket holding the `q` quantile (`q` in `[0, 1]`),
    /// i.e. the value is at most this; infinite if it lies past the last
    /// bucket, `None` without observations.
    pub fn quantile_upper_bound(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (index, bucket) in self.0.buckets.iter().enumerate() {
            seen += bucket.load(Ordering::Relaxed);
            if seen >= rank {
                return Some(LATENCY_BUCKETS.get(index).copied().unwrap_or(f64::INFINITY));
            }
        }
        Some(f64::INFINITY)
    }
}

type HistogramFamily = (MetricDef, BTreeMap<Labels, Arc<HistogramData>>);

/// A family's definition and its series by label set.
type Family = (MetricDef, BTreeMap<Labels, Arc<AtomicI64>>);

#[derive(Default)]
struct Registry {
    families: Mutex<BTreeMap<&'static str, Family>>,
    histograms: Mutex<BTreeMap<&'static str, HistogramFamily>>,
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

/// The histogram series of `def` with `labels` (created empty on first use).
pub fn histogram(def: &MetricDef, labels: &[(&'static str, &str)]) -> Histogram {
    let labels: Labels = labels.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    let mut families = registry().histograms.lock().unwrap_or_else(|poison| poison.into_inner());
    let family = families.entry(def.name).or_insert_with(|| (*def, BTreeMap::new()));
    Histogram(family.1.entry(labels).or_default().clone())
}

fn label_text(labels: &Labels, extra: Option<(&str, String)>) -> String {
    let mut rendered: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
    if let Some((k, v)) = extra {
        rendered.push(format!("{k}=\"{v}\""));
    }
    if rendered.is_empty() { String::new() } else { format!("{{{}}}", rendered.join(",")) }
}

/// Renders every registered series in the Prometheus text format.
pub fn render() -> String {
    let families = registry().families.lock().unwrap_or_else(|poison| poison.into_inner());
    let mut out = String::new();
    for (name, (def, all_series)) in families.iter() {
        let kind = match def.kind {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Histogram => "histogram",
        };
        let _ = writeln!(out, "# HELP {name} {}\n# TYPE {name} {kind}", def.help);
        for (labels, value) in all_series {
            let _ = writeln!(out, "{name}{} {}", label_text(labels, None), value.load(Ordering::Relaxed));
        }
    }
    drop(families);
    let histograms = registry().histograms.lock().unwrap_or_else(|poison| poison.into_inner());
    for (name, (def, all_series)) in histograms.iter() {
        let _ = writeln!(out, "# HELP {name} {}\n# TYPE {name} histogram", def.help);
        for (labels, data) in all_series {
            let mut cumulative = 0;
            for (index, bucket) in data.buckets.iter().enumerate() {
                cumulative += bucket.load(Ordering::Relaxed);
                let bound = LATENCY_BUCKETS.get(index).map_or_else(|| "+Inf".to_owned(), |b| b.to_string());
                let _ =
                    writeln!(out, "{name}_bucket{} {cumulative}", label_text(labels, Some(("le", bound))));
            }
            let sum = data.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
            let _ = writeln!(out, "{name}_sum{} {sum}", label_text(labels, None));
            let _ = writeln!(out, "{name}_count{} {cumulative}", label_text(labels, None));
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

    const TEST_SECONDS: MetricDef =
        MetricDef { name: "smo_test_seconds", help: "Latency in a test.", kind: MetricKind::Histogram };

    #[test]
    fn histograms_render_cumulative_buckets_and_bound_quantiles() {
        let h = histogram(&TEST_SECONDS, &[("stage", "index")]);
        assert_eq!(h.quantile_upper_bound(0.5), None);
        for seconds in [0.002, 0.002, 0.02, 0.3, 100.0] {
            h.observe(seconds);
        }
        assert_eq!(h.count(), 5);
        assert_eq!(h.quantile_upper_bound(0.4), Some(0.0025));
        assert_eq!(h.quantile_upper_bound(0.5), Some(0.025));
        assert_eq!(h.quantile_upper_bound(0.8), Some(0.5));
        assert_eq!(h.quantile_upper_bound(1.0), Some(f64::INFINITY));
        let text = render();
        assert!(text.contains("# TYPE smo_test_seconds histogram"), "{text}");
        assert!(text.contains("smo_test_seconds_bucket{stage=\"index\",le=\"0.0025\"} 2"), "{text}");
        assert!(text.contains("smo_test_seconds_bucket{stage=\"index\",le=\"+Inf\"} 5"), "{text}");
        assert!(text.contains("smo_test_seconds_count{stage=\"index\"} 5"), "{text}");
    }
}
