//! Linear models over hashed [`Features`]: binary logistic regression (one
//! output, sigmoid) and multinomial logistic regression (one output per
//! class, softmax), both trained by [`fit`] with AdaGrad and L2.
//!
//! Linear models because they are the best accuracy per microsecond on a
//! CPU: a prediction is one pass over the post's few hundred feature pairs,
//! each touching `outputs` adjacent weights (weights are stored feature-major
//! so they share a cache line). Training is a few shuffled epochs over
//! pre-extracted features; a seeded PRNG makes it reproducible bit for bit.

use crate::model::features::Features;

/// Most classes a model may have; the probabilities live on the stack.
pub const MAX_CLASSES: usize = 8;

/// A model's probabilities for each class, in the model's class order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Probabilities {
    len: usize,
    values: [f32; MAX_CLASSES],
}

impl Probabilities {
    /// The probabilities, one per class, summing to 1.
    pub fn as_slice(&self) -> &[f32] {
        &self.values[..self.len]
    }

    /// Probability of class `class` (0 for a class the model does not have).
    pub fn get(&self, class: usize) -> f32 {
        self.as_slice().get(class).copied().unwrap_or(0.0)
    }

    /// The most probable class (the first on ties).
    pub fn argmax(&self) -> usize {
        let mut best = 0;
        for (class, &p) in self.as_slice().iter().enumerate() {
            if p > self.values[best] {
                best = class;
            }
        }
        best
    }
}

/// Weights and biases of a linear classifier over `dimension` features.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearModel {
    classes: usize,
    outputs: usize,
    dimension: usize,
    /// `dimension × outputs`, feature-major.
    weights: Vec<f32>,
    bias: Vec<f32>,
}

impl LinearModel {
    /// A zero model: probability 1/classes everywhere. `classes` is 2 for a
    /// binary model (one sigmoid output) and up to [`MAX_CLASSES`].
    pub fn zeros(classes: usize, dimension: usize) -> Result<Self, String> {
        let outputs = outputs_for(classes)?;
        Ok(Self {
            classes,
            outputs,
            dimension,
            weights: vec![0.0; dimension.saturating_mul(outputs)],
            bias: vec![0.0; outputs],
        })
    }

    /// Rebuilds a model from stored parts, checking their shapes.
    pub fn from_parts(
        classes: usize,
        dimension: usize,
        weights: Vec<f32>,
        bias: Vec<f32>,
    ) -> Result<Self, String> {
        let outputs = outputs_for(classes)?;
        if bias.len() != outputs {
            return Err(format!("{} biases for {outputs} outputs", bias.len()));
        }
        if weights.len() != dimension.saturating_mul(outputs) {
            return Err(format!("{} weights for {dimension} features × {outputs} outputs", weights.len()));
        }
        if !weights.iter().chain(&bias).all(|w| w.is_finite()) {
            return Err("a weight is not a finite number".to_owned());
        }
        Ok(Self { classes, outputs, dimension, weights, bias })
    }

    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Number of scores per feature: 1 for binary models, else the classes.
    pub fn outputs(&self) -> usize {
        self.outputs
    }

    /// Number of features the model has weights for.
    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// The weights, feature-major (`weights[feature * outputs + output]`).
    pub fn weights(&self) -> &[f32] {
        &self.weights
    }

    /// One bias per output.
    pub fn bias(&self) -> &[f32] {
        &self.bias
    }

    /// Adds `delta` to output `output`'s bias; moves a binary model's
    /// decision threshold without retraining.
    pub fn shift_bias(&mut self, output: usize, delta: f32) {
        if let Some(bias) = self.bias.get_mut(output)
            && delta.is_finite()
        {
            *bias += delta;
        }
    }

    /// Sets weights with `|w| < threshold` to zero, returning how many
    /// features still have a non-zero weight; shrinks the model file.
    pub fn prune(&mut self, threshold: f32) -> usize {
        for weight in &mut self.weights {
            if weight.abs() < threshold {
                *weight = 0.0;
            }
        }
        self.nonzero_features()
    }

    /// Features with at least one non-zero weight.
    pub fn nonzero_features(&self) -> usize {
        self.weights.chunks_exact(self.outputs).filter(|row| row.iter().any(|&w| w != 0.0)).count()
    }

    /// Class probabilities for `features`. Indexes outside the model's
    /// dimension are ignored, so no input can make it panic.
    pub fn predict(&self, features: &Features) -> Probabilities {
        let mut logits = [0.0f32; MAX_CLASSES];
        self.logits(features, &mut logits);
        probabilities(self.classes, &logits[..self.outputs])
    }

    fn logits(&self, features: &Features, logits: &mut [f32; MAX_CLASSES]) {
        logits[..self.outputs].copy_from_slice(&self.bias);
        for &(index, value) in features.entries() {
            let start = index as usize * self.outputs;
            if let Some(row) = self.weights.get(start..start + self.outputs) {
                for (logit, weight) in logits.iter_mut().zip(row) {
                    *logit += weight * value;
                }
            }
        }
    }
}

fn outputs_for(classes: usize) -> Result<usize, String> {
    match classes {
        2 => Ok(1),
        3..=MAX_CLASSES => Ok(classes),
        _ => Err(format!("{classes} classes: a model has 2 to {MAX_CLASSES}")),
    }
}

fn probabilities(classes: usize, logits: &[f32]) -> Probabilities {
    let mut values = [0.0f32; MAX_CLASSES];
    if classes == 2 {
        let p = sigmoid(logits.first().copied().unwrap_or(0.0));
        values[0] = 1.0 - p;
        values[1] = p;
    } else {
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0.0;
        for (value, &logit) in values.iter_mut().zip(logits) {
            *value = (logit - max).exp();
            sum += *value;
        }
        if sum.is_finite() && sum > 0.0 {
            for value in &mut values[..classes] {
                *value /= sum;
            }
        } else {
            values[..classes].fill(1.0 / classes as f32);
        }
    }
    Probabilities { len: classes, values }
}

/// The logistic function, safe for any input.
pub fn sigmoid(z: f32) -> f32 {
    if z.is_nan() {
        0.5
    } else if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// The inverse of [`sigmoid`], for turning a probability threshold into a
/// bias shift.
pub fn logit(p: f32) -> f32 {
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    (p / (1.0 - p)).ln()
}

/// How [`fit`] trains.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SgdOptions {
    /// Passes over the shuffled data.
    pub epochs: u32,
    /// AdaGrad's base step.
    pub learning_rate: f32,
    /// L2 penalty, applied to the weights an example touches.
    pub l2: f32,
    /// PRNG seed for the shuffles.
    pub seed: u64,
}

impl Default for SgdOptions {
    fn default() -> Self {
        Self { epochs: 6, learning_rate: 0.2, l2: 1e-5, seed: 0x5eed }
    }
}

/// One training example: features, class index and weight (class balance,
/// source weight).
#[derive(Debug, Clone, Copy)]
pub struct Example<'a> {
    /// The example's features.
    pub features: &'a Features,
    /// Its class, below the model's class count.
    pub label: usize,
    /// How much it counts; 1 is ordinary.
    pub weight: f32,
}

/// Trains a `classes`-class model over `dimension` features on `examples`
/// with AdaGrad, L2 and a seeded shuffle each epoch. Examples with a label
/// out of range or a non-finite weight are skipped.
pub fn fit(
    classes: usize,
    dimension: usize,
    examples: &[Example<'_>],
    options: &SgdOptions,
) -> Result<LinearModel, String> {
    let mut model = LinearModel::zeros(classes, dimension)?;
    let outputs = model.outputs;
    let mut squared = vec![0.0f32; model.weights.len()];
    let mut bias_squared = vec![0.0f32; outputs];
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut rng = SplitMix64(options.seed);
    let rate = options.learning_rate;
    let l2 = options.l2;
    let mut logits = [0.0f32; MAX_CLASSES];
    let mut gradient = [0.0f32; MAX_CLASSES];
    for _ in 0..options.epochs {
        rng.shuffle(&mut order);
        for &i in &order {
            let example = &examples[i];
            if example.label >= classes || !example.weight.is_finite() || example.weight <= 0.0 {
                continue;
            }
            model.logits(example.features, &mut logits);
            let p = probabilities(classes, &logits[..outputs]);
            if classes == 2 {
                gradient[0] = example.weight * (p.values[1] - f32::from(u8::from(example.label == 1)));
            } else {
                for (class, g) in gradient[..outputs].iter_mut().enumerate() {
                    *g = example.weight * (p.values[class] - f32::from(u8::from(example.label == class)));
                }
            }
            for &(index, value) in example.features.entries() {
                let start = index as usize * outputs;
                let (Some(row), Some(acc)) =
                    (model.weights.get_mut(start..start + outputs), squared.get_mut(start..start + outputs))
                else {
                    continue;
                };
                for ((weight, acc), &g) in row.iter_mut().zip(acc).zip(&gradient[..outputs]) {
                    let step = g * value + l2 * *weight;
                    *acc += step * step;
                    *weight -= rate * step / (acc.sqrt() + 1e-6);
                }
            }
            for ((bias, acc), &g) in model.bias.iter_mut().zip(&mut bias_squared).zip(&gradient[..outputs]) {
                *acc += g * g;
                *bias -= rate * g / (acc.sqrt() + 1e-6);
            }
        }
    }
    if !model.weights.iter().chain(&model.bias).all(|w| w.is_finite()) {
        return Err("training diverged (a weight is not finite); lower the learning rate".to_owned());
    }
    Ok(model)
}

/// SplitMix64: a tiny seeded PRNG, so shuffles (and thus models) reproduce
/// bit for bit without a dependency.
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform index below `n` (which must be positive).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(features: &Features, label: usize) -> Example<'_> {
        Example { features, label, weight: 1.0 }
    }

    #[test]
    fn binary_model_separates_two_features() {
        let a = Features::from_entries(vec![(0, 1.0), (2, 0.5)]);
        let b = Features::from_entries(vec![(1, 1.0), (2, 0.5)]);
        let examples: Vec<_> = (0..50).flat_map(|_| [example(&a, 1), example(&b, 0)]).collect();
        let model = fit(2, 3, &examples, &SgdOptions::default()).unwrap();
        assert!(model.predict(&a).get(1) > 0.9);
        assert!(model.predict(&b).get(1) < 0.1);
        assert_eq!(model.outputs(), 1);
    }

    #[test]
    fn softmax_model_separates_three_classes() {
        let xs: Vec<Features> = (0..3).map(|c| Features::from_entries(vec![(c, 1.0), (3, 1.0)])).collect();
        let examples: Vec<_> =
            (0..30).flat_map(|_| xs.iter().enumerate().map(|(c, x)| example(x, c))).collect();
        let model = fit(3, 4, &examples, &SgdOptions::default()).unwrap();
        for (class, x) in xs.iter().enumerate() {
            let p = model.predict(x);
            assert_eq!(p.argmax(), class);
            assert!((p.as_slice().iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
    }

    #[test]
    fn training_is_reproducible_and_seed_dependent() {
        let xs: Vec<Features> =
            (0..20).map(|i| Features::from_entries(vec![(i % 7, 1.0), (7 + i % 3, 0.5)])).collect();
        let examples: Vec<_> = xs.iter().enumerate().map(|(i, x)| example(x, i % 2)).collect();
        let options = SgdOptions::default();
        let one = fit(2, 10, &examples, &options).unwrap();
        assert_eq!(one, fit(2, 10, &examples, &options).unwrap());
        assert_ne!(one, fit(2, 10, &examples, &SgdOptions { seed: 7, ..options }).unwrap());
    }

    #[test]
    fn prediction_ignores_out_of_range_indexes() {
        let model = LinearModel::zeros(3, 4).unwrap();
        let p = model.predict(&Features::from_entries(vec![(u32::MAX, f32::MAX), (2, f32::NAN)]));
        assert_eq!(p.as_slice().len(), 3);
        assert!(p.as_slice().iter().all(|v| v.is_finite()));
    }

    #[test]
    fn shapes_are_checked() {
        assert!(LinearModel::zeros(1, 4).is_err());
        assert!(LinearModel::zeros(9, 4).is_err());
        assert!(LinearModel::from_parts(2, 4, vec![0.0; 3], vec![0.0]).is_err());
        assert!(LinearModel::from_parts(3, 1, vec![0.0; 3], vec![0.0; 2]).is_err());
        assert!(LinearModel::from_parts(2, 1, vec![f32::NAN], vec![0.0]).is_err());
        assert!(LinearModel::from_parts(2, 1, vec![0.5], vec![0.0]).is_ok());
    }

    #[test]
    fn logit_inverts_sigmoid_and_sigmoid_is_total() {
        for p in [0.1f32, 0.5, 0.73] {
            assert!((sigmoid(logit(p)) - p).abs() < 1e-5);
        }
        assert_eq!(sigmoid(f32::NAN), 0.5);
        assert_eq!(sigmoid(f32::INFINITY), 1.0);
        assert_eq!(sigmoid(f32::NEG_INFINITY), 0.0);
    }
}
