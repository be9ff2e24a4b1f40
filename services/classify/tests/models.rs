//! The shipped models in `config/models/` load and get obvious posts right in
//! several languages, and broken model directories are errors, not panics.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use smo_classify::classifier::{COMPLAINT_MODEL_FILE, SENTIMENT_MODEL_FILE};
use smo_classify::{Classifier, ClassifyError};
use smo_proto::Sentiment;

fn models_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/models")
}

fn shipped() -> Classifier {
    Classifier::with_models(&models_dir()).unwrap_or_else(|err| panic!("{err}"))
}

#[test]
fn shipped_models_load_and_name_themselves() {
    let classifier = shipped();
    let sentiment = classifier.sentiment_model().expect("sentiment.smo is shipped");
    let complaint = classifier.complaint_model().expect("complaint.smo is shipped");
    assert!(classifier.version().contains(&sentiment.model_id), "{}", classifier.version());
    assert!(classifier.version().contains(&complaint.model_id));
    assert!(sentiment.cross_validation.is_some() && complaint.cross_validation.is_some());
    for file in [SENTIMENT_MODEL_FILE, COMPLAINT_MODEL_FILE] {
        let size = std::fs::metadata(models_dir().join(file)).unwrap().len();
        assert!(size < 5_000_000, "{file} is {size} bytes");
    }
}

#[test]
fn obvious_complaints_are_negative_complaints() {
    let classifier = shipped();
    for text in [
        "@AcmeAir worst airline ever, lost my bag",
        "@AcmeAir still waiting for my refund after 6 weeks, this is ridiculous",
        "@Iberia la peor aerolínea, perdieron mi maleta y nadie responde",
        "@AirFrance pire compagnie, ils ont perdu ma valise et personne ne répond",
        "@Lufthansa schlechteste Airline überhaupt, mein Koffer ist verloren",
        "@Alitalia pessima compagnia, hanno perso la mia valigia",
        "@TAP pior companhia aérea, perderam a minha mala",
    ] {
        let sentiment = classifier.sentiment_of(text);
        assert_eq!(sentiment.label, Sentiment::Negative, "{text}: {sentiment:?}");
        assert!(sentiment.score < 0.0);
        let complaint = classifier.complaint_score(text);
        assert!(complaint > 0.5, "{text}: complaint score {complaint}");
    }
}

#[test]
fn obvious_praise_is_positive_and_not_a_complaint() {
    let classifier = shipped();
    for text in [
        "@AcmeAir thank you so much, great crew!",
        "@Iberia muchas gracias, excelente servicio y una tripulación maravillosa",
        "@AirFrance merci beaucoup, équipage génial et vol parfait",
        "@Lufthansa vielen Dank, tolle Crew und super Service",
        "@Alitalia grazie mille, equipaggio fantastico",
        "@TAP muito obrigado, tripulação excelente",
    ] {
        let sentiment = classifier.sentiment_of(text);
        assert_eq!(sentiment.label, Sentiment::Positive, "{text}: {sentiment:?}");
        let complaint = classifier.complaint_score(text);
        assert!(complaint < 0.5, "{text}: complaint score {complaint}");
    }
}

#[test]
fn model_scores_are_always_in_range() {
    let classifier = shipped();
    let long = "terrible ".repeat(200_000);
    for text in ["", "😀", "\u{0}", "?!", long.as_str(), "ÀÉÎ İı ß", "我的行李丢了"] {
        let sentiment = classifier.sentiment_of(text);
        assert!((-1.0..=1.0).contains(&sentiment.score), "{sentiment:?}");
        let complaint = classifier.complaint_score(text);
        assert!((0.0..=1.0).contains(&complaint), "{complaint}");
    }
}

#[test]
fn broken_model_directories_are_errors() {
    let directory = std::env::temp_dir().join(format!("smo-classify-models-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    // A missing directory.
    assert!(matches!(Classifier::with_models(&directory.join("nope")), Err(ClassifyError::Model { .. })));
    // An empty directory: lexicons and rules.
    let empty = Classifier::with_models(&directory).unwrap();
    assert!(empty.sentiment_model().is_none() && empty.complaint_model().is_none());
    // A damaged file, and a model in the other one's place.
    std::fs::write(directory.join(SENTIMENT_MODEL_FILE), b"SMOMODEL\x01\0\0\0garbage").unwrap();
    let error = Classifier::with_models(&directory).unwrap_err();
    assert!(error.to_string().contains(SENTIMENT_MODEL_FILE), "{error}");
    std::fs::copy(models_dir().join(COMPLAINT_MODEL_FILE), directory.join(SENTIMENT_MODEL_FILE)).unwrap();
    let error = Classifier::with_models(&directory).unwrap_err();
    assert!(error.to_string().contains("task"), "{error}");
    std::fs::remove_dir_all(&directory).unwrap();
}

#[test]
fn classify_uses_the_models_end_to_end() {
    use chrono::{TimeZone, Utc};
    use smo_classify::AccountProfile;
    use smo_proto::{AccountId, Author, Engagement, Intent, Post, PostId, SCHEMA_VERSION};
    let classifier = shipped();
    let post = |text: &str| Post {
        schema_version: SCHEMA_VERSION,
        id: PostId::derive("file:test", text),
        account: AccountId::new("acme-air").unwrap(),
        source: "file:test".to_owned(),
        native_id: text.to_owned(),
        author: Author {
            id: "1".to_owned(),
            handle: "t".to_owned(),
            display_name: None,
            followers: Some(5_000),
        },
        text: text.to_owned(),
        url: None,
        created_at: Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).single().unwrap(),
        in_reply_to: None,
        thread_id: None,
        engagement: Engagement::default(),
    };
    let profile = AccountProfile::new(&[], Some(vec!["en".to_owned()])).unwrap();
    let complaint =
        classifier.classify(&post("@AcmeAir worst airline ever, lost my bag"), &profile, Utc::now());
    assert_eq!(complaint.intent, Intent::Complaint);
    assert_eq!(complaint.sentiment.label, Sentiment::Negative);
    assert_eq!(complaint.classifier_version, classifier.version());
    let praise = classifier.classify(&post("@AcmeAir thank you so much, great crew!"), &profile, Utc::now());
    assert_eq!(praise.intent, Intent::Praise);
    assert!(praise.priority < complaint.priority);
    let question =
        classifier.classify(&post("@AcmeAir what is the baggage allowance to Madrid?"), &profile, Utc::now());
    assert_eq!(question.intent, Intent::Question);
}

#[test]
fn a_stacked_model_refuses_another_sentiment_model() {
    use smo_classify::model::dataset::{Dataset, LabelledText};
    use smo_classify::model::train::{Prepared, TrainOptions, TrainingSource, train};
    use smo_classify::model::{Task, TextModel};
    let rows = ["awful", "the gate", "lovely"]
        .iter()
        .cycle()
        .take(30)
        .enumerate()
        .map(|(i, text)| LabelledText { text: format!("{text} {i}"), label: i % 3, lang: None })
        .collect();
    let source = TrainingSource::new(Dataset { path: "s.csv".to_owned(), fingerprint: 0, rows }, 1.0);
    let mut options = TrainOptions::for_task(Task::Sentiment);
    options.folds = 0;
    let prepared = Prepared::new(Task::Sentiment, vec![source], &options.features, 1, None).unwrap();
    let other = TextModel::new(train(&prepared, &options, None, "test").unwrap()).unwrap();
    let complaint = TextModel::load(&models_dir().join(COMPLAINT_MODEL_FILE), Task::Complaint).unwrap();
    assert!(complaint.header().stacked_on.is_some());
    let error = Classifier::from_models(Some(other), Some(complaint.clone())).unwrap_err();
    assert!(error.to_string().contains("retrain"), "{error}");
    assert!(Classifier::from_models(None, Some(complaint)).is_err());
}
