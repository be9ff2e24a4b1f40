//! Tests of near-duplicate detection, apart from the code so that the module
//! stays readable; they reach into both the fingerprint and the window.

use std::borrow::Cow;
use std::collections::HashSet;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use smo_proto::PostId;

use super::fingerprint::{SimHasher, half_split, mix, squeeze, strip_trailing_noise};
use super::window::split_into_blocks;
use super::*;
use crate::text;

fn at(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).single().unwrap() + TimeDelta::minutes(minute)
}

fn id(n: usize) -> PostId {
    PostId::derive("test", &n.to_string())
}

fn fingerprint(text: &str) -> Fingerprint {
    Fingerprint::of(text).unwrap_or_else(|| panic!("no fingerprint for {text:?}"))
}

/// Observes `texts` in order, a minute apart, and returns each answer as
/// the index of the post it points to.
fn observe_all(texts: &[&str]) -> Vec<Option<usize>> {
    let mut window = NearDuplicateWindow::default();
    let ids: Vec<PostId> = (0..texts.len()).map(id).collect();
    texts
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let answer = window.observe(&ids[i], at(i as i64), text);
            answer.map(|dup| ids.iter().position(|id| *id == dup).unwrap())
        })
        .collect()
}

#[test]
fn fingerprints_from_the_shared_normalisation_are_the_same() {
    let texts = [
        "",
        "RT @news: AcmeAir cancels all flights out of Denver tonight as the blizzard closes both runways https://t.co/a1 #snow",
        "AcmeAir cancels all flights out of Denver tonight as the blizzard closes both runways via @denverpost",
        "my flight was delayed again and the airline lost my luggage cc @acme @faa RT @x",
        "Win a free iPhone now just follow and retweet this post #giveaway #win #free http://bit.ly/x :) 😀",
        "#only #hashtags #here @and @handles http",
        "words words words words words words — … !!! ::: 😀 http://x.y/z",
        "L’avion n'est pas arrivé, et personne ne répond au service client depuis hier soir #fail",
        "我的订单还没有到，已经等了两个星期了，客服也不回复 @taobao",
        "The quick brown fox jumps over the lazy dog RT",
        "The quick brown fox jumps over the lazy dog RT @someone",
        "Thanks so much for the help today, really appreciated h/t @crew",
    ];
    for text in texts {
        let normalized = text::normalize(text);
        assert_eq!(Fingerprint::of_normalized(text, &normalized), Fingerprint::of(text), "{text:?}");
    }
}

#[test]
fn hamming_distance_counts_differing_bits() {
    assert_eq!(hamming_distance(0, 0), 0);
    assert_eq!(hamming_distance(0, u64::MAX), 64);
    assert_eq!(hamming_distance(0b1011, 0b0001), 2);
    let a = Fingerprint { whole: 0xdead_beef_0000_0001, halves: Some([0, 0]) };
    let b = Fingerprint { whole: 0xdead_beef_0000_0000, halves: Some([u64::MAX, u64::MAX]) };
    assert_eq!(a.distance(b), 1);
    assert_eq!(b.distance(a), 1);
    assert!(a.is_near_duplicate(b, 1) && !a.is_near_duplicate(b, 0));
    // The half rule: one close half, and wholes within 14 bits.
    let a = Fingerprint { whole: 0, halves: Some([0, 0]) };
    let c = Fingerprint { whole: 0x3fff, halves: Some([0b111, u64::MAX]) };
    assert!(a.is_near_duplicate(c, 0), "first halves 3 bits apart, wholes 14 bits apart");
    let d = Fingerprint { whole: 0x7fff, halves: Some([0b111, u64::MAX]) };
    assert!(!a.is_near_duplicate(d, 0), "wholes 15 bits apart");
    let e = Fingerprint { whole: 0xffff, halves: None };
    assert!(!a.is_near_duplicate(e, 0), "no halves, no half rule");
}

#[test]
fn simhash_sets_the_bits_most_features_have() {
    let mut hasher = SimHasher::new();
    for _ in 0..600 {
        hasher.add(0b0110);
    }
    for _ in 0..400 {
        hasher.add(0b1100 | 1 << 63);
    }
    assert_eq!(hasher.finish(), 0b0110, "bit 2 in all, bit 1 in 600, bits 3 and 63 in 400 of 1,000");
    let mut tie = SimHasher::new();
    tie.add(1);
    tie.add(2);
    assert_eq!(tie.finish(), 0, "a tie leaves the bit clear");
}

#[test]
fn fingerprints_are_deterministic_and_ignore_tweet_noise() {
    let text = "Our new app update is live: faster checkout, dark mode and Apple Pay support";
    assert_eq!(fingerprint(text), fingerprint(text));
    let noisy = "RT @AcmeBank: OUR new app update is LIVE!! faster checkout, dark mode and Apple Pay support 🎉 https://t.co/x1 #AcmeApp #fintech";
    assert_eq!(fingerprint(text), fingerprint(noisy));
    // A different text lands far away: about half the bits differ.
    let other = "Stuck at gate B12 for two hours with no update from the crew, this is ridiculous";
    assert!(fingerprint(text).distance(fingerprint(other)) > 20);
}

#[test]
fn blocks_partition_the_64_bits_and_any_close_pair_shares_one() {
    let mask = |width: u32| if width >= 64 { u64::MAX } else { (1u64 << width) - 1 };
    for count in 1..=11 {
        let blocks = split_into_blocks(count);
        assert_eq!(blocks.len(), count as usize);
        let mut covered = 0u64;
        for &(shift, width) in &blocks {
            let bits = mask(width) << shift;
            assert_eq!(covered & bits, 0, "blocks overlap");
            covered |= bits;
        }
        assert_eq!(covered, u64::MAX, "{count} blocks leave bits uncovered");
    }
    assert_eq!(split_into_blocks(4), vec![(0, 16), (16, 16), (32, 16), (48, 16)], "k = 3: 4 × 16 bits");
    // Pigeonhole: flipping up to k bits leaves one of k + 1 blocks intact.
    let mut state = 0x1234_5678_9abc_def0u64;
    let mut next = || {
        state = mix(state.wrapping_add(0x9e37_79b9_7f4a_7c15));
        state
    };
    for k in 0..=MAX_SUPPORTED_DISTANCE {
        let blocks = split_into_blocks(k + 1);
        for _ in 0..2_000 {
            let a = next();
            let mut b = a;
            for _ in 0..k {
                b ^= 1 << (next() % 64);
            }
            let key = |x: u64, (shift, width): (u32, u32)| (x >> shift) & mask(width);
            assert!(blocks.iter().any(|&block| key(a, block) == key(b, block)));
        }
    }
}

#[test]
fn retweets_and_quote_retweets_are_duplicates_of_the_original() {
    let answers = observe_all(&[
        "Our new mobile app is live: faster checkout, dark mode and Apple Pay support. Update now! https://t.co/a1b2",
        "RT @AcmeBank: Our new mobile app is live: faster checkout, dark mode and Apple Pay support. Update now! https://t.co/a1b2",
        "“@AcmeBank: Our new mobile app is live: faster checkout, dark mode and Apple Pay support. Update now!” 🔥",
    ]);
    assert_eq!(answers, vec![None, Some(0), Some(0)]);
}

#[test]
fn cross_posts_with_other_links_handles_and_hashtags_are_duplicates() {
    let answers = observe_all(&[
        "AcmeAir cancels all flights out of Denver tonight as the blizzard closes runways https://t.co/Zx81kq",
        "@AcmeAir cancels all flights out of Denver tonight as the blizzard closes runways https://bit.ly/3kQ9 via @DenverPost",
        "AcmeAir cancels all flights out of Denver tonight as the blizzard closes runways. https://news.example/acme?utm=fb #travel #snow",
    ]);
    assert_eq!(answers, vec![None, Some(0), Some(0)]);
}

#[test]
fn copy_paste_campaigns_with_small_edits_are_one_group() {
    let answers = observe_all(&[
        "@AcmeTelecom I have been without internet for 3 days and nobody can tell me when it will be fixed. Refund us now! #AcmeOutage",
        "@AcmeTelecom @AcmeHelp I have been without internet for 3 days and nobody can tell me when it will be fixed. Refund us now!! #AcmeOutage #BoycottAcme",
        "@AcmeTelecom I've been without internet for 3 days and nobody can tell me when it will be fixed. Refund us now! 😡",
        "I have been without internet for 3 days and nobody can tell me when it will be fixed. Refund us NOW @AcmeTelecom",
        "@AcmeTelecom I have been without internet for 3 days and nobody can tell me when it will finally be fixed. Refund us now! #AcmeOutage",
        "@AcmeTelecom I have been without internet for 3 days and no one can tell me when it will be fixed. Refund us now! #AcmeOutage",
        "@AcmeTelecom We have been without internet for 4 days and nobody can tell me when it will be fixed. Refund us now!",
    ]);
    assert_eq!(answers, vec![None, Some(0), Some(0), Some(0), Some(0), Some(0), Some(0)]);
}

#[test]
fn distinct_posts_sharing_common_words_are_not_duplicates() {
    let answers = observe_all(&[
        "@AcmeAir my flight was cancelled again and nobody at the desk can tell me why",
        "@AcmeAir my flight was delayed three hours and I missed my connection in Chicago",
        "@AcmeAir my bag did not arrive in Boston, the flight was fine but where is my luggage",
        "@AcmeAir thanks for the upgrade today, the crew on my flight was fantastic",
        "@AcmeAir is my flight to Denver tomorrow going to be cancelled because of the snow?",
        "@AcmeAir the wifi on my flight was not working again, can I get a refund for it?",
        "Flight was cancelled again, nobody could tell me why, so I am driving to Denver instead",
        "AcmeAir just announced new routes from Denver to Boston and Chicago starting in March",
    ]);
    assert!(answers.iter().all(Option::is_none), "{answers:?}");
}

#[test]
fn a_shared_formula_with_a_different_rest_is_not_a_duplicate() {
    let answers = observe_all(&[
        "@AcmeAir thank you so much for your help with my booking yesterday, the agent on the phone was great",
        "@AcmeAir thank you so much for your help with my booking, but my bag is still missing after three days",
        "@AcmeAir I have been on hold for two hours now, when will someone pick up the phone? This is a joke",
        "@AcmeAir I have been on hold for two hours now and the app still shows my flight as cancelled",
    ]);
    assert!(answers.iter().all(Option::is_none), "{answers:?}");
}

#[test]
fn a_redelivered_post_is_not_its_own_duplicate_and_gets_the_same_answer() {
    let mut window = NearDuplicateWindow::default();
    let text = "Huge thanks to the AcmeAir crew on flight 212 who found my daughter's lost teddy bear";
    assert_eq!(window.observe(&id(1), at(0), text), None);
    assert_eq!(window.observe(&id(1), at(0), text), None, "redelivery is not a duplicate");
    let copy = format!("RT @jane: {text}");
    assert_eq!(window.observe(&id(2), at(5), &copy), Some(id(1)));
    assert_eq!(window.observe(&id(2), at(5), &copy), Some(id(1)), "redelivery repeats the answer");
    assert_eq!(window.observe(&id(1), at(0), text), None);
    assert_eq!(window.len(), 2);
}

#[test]
fn duplicates_of_duplicates_point_to_the_first_post_of_the_group() {
    let mut window = NearDuplicateWindow::default();
    let text = "Limited seats left for the AcmeAir Lisbon sale, fares from 99 euros until Sunday night";
    assert_eq!(window.observe(&id(1), at(0), text), None);
    assert_eq!(window.observe(&id(2), at(1), &format!("{text} #sale")), Some(id(1)));
    assert_eq!(window.observe(&id(3), at(2), &format!("RT @x: {text}")), Some(id(1)));
}

#[test]
fn the_window_forgets_the_oldest_posts_beyond_its_size() {
    let config = NearDuplicateConfig { max_posts: 3, ..NearDuplicateConfig::default() };
    let mut window = NearDuplicateWindow::new(config);
    let texts = [
        "first post about the new AcmeAir lounge opening in Lisbon next week",
        "second post about a cancelled flight from Denver with no rebooking offered",
        "third post asking whether pets can travel in the cabin on AcmeAir flights",
        "fourth post praising the crew who helped an elderly passenger with her bags",
    ];
    for (i, text) in texts.iter().enumerate() {
        assert_eq!(window.observe(&id(i), at(i as i64), text), None);
    }
    assert_eq!(window.len(), 3);
    assert_eq!(window.observe(&id(10), at(10), texts[0]), None, "the first post was forgotten");
    assert_eq!(window.observe(&id(11), at(11), texts[3]), Some(id(3)));
    assert_eq!(window.len(), 3);
    // Every table holds exactly the remembered posts that have its view.
    for table in &window.tables {
        let expected = window.entries.iter().filter(|e| table.view.of(&e.fingerprint).is_some()).count();
        assert_eq!(table.buckets.iter().map(|bucket| bucket.seqs.len()).sum::<usize>(), expected);
        assert!(table.buckets.iter().all(|bucket| bucket.seqs.len() == bucket.simhashes.len()));
    }
    assert_eq!(window.by_id.len(), 3);
}

#[test]
fn the_window_forgets_posts_older_than_its_age_and_ignores_far_apart_ones() {
    let config = NearDuplicateConfig { max_age: TimeDelta::hours(1), ..NearDuplicateConfig::default() };
    let mut window = NearDuplicateWindow::new(config);
    let text = "Our check-in desks in Terminal 2 are closed today because of the strike, please use the app";
    assert_eq!(window.observe(&id(1), at(0), text), None);
    assert_eq!(window.observe(&id(2), at(30), text), Some(id(1)));
    assert_eq!(window.observe(&id(3), at(150), text), None, "post 1 and 2 are older than an hour");
    assert_eq!(window.len(), 1, "expired posts are forgotten");
    // A late post from long before is not matched with recent ones.
    assert_eq!(window.observe(&id(4), at(-600), text), None);
}

#[test]
fn short_texts_get_no_fingerprint_but_spaceless_scripts_do() {
    for text in ["thanks!", "DM sent", "same here 😂", "@AcmeAir ok", "", "   ", "#a #b", "https://t.co/x"]
    {
        assert_eq!(Fingerprint::of(text), None, "{text:?}");
    }
    let mut window = NearDuplicateWindow::default();
    assert_eq!(window.observe(&id(1), at(0), "thanks!"), None);
    assert_eq!(window.observe(&id(2), at(1), "thanks!"), None);
    assert!(window.is_empty());
    let chinese = "我的航班又被取消了，客服电话一直打不通，太让人失望了";
    assert!(Fingerprint::of(chinese).is_some());
    assert_eq!(window.observe(&id(3), at(2), chinese), None);
    assert_eq!(window.observe(&id(4), at(3), &format!("@AcmeAir {chinese} https://t.co/q")), Some(id(3)));
}

#[test]
fn disabled_window_and_odd_inputs_never_panic() {
    let mut disabled = NearDuplicateWindow::new(NearDuplicateConfig { max_posts: 0, ..Default::default() });
    let text = "the same long enough text posted twice by two different accounts";
    assert_eq!(disabled.observe(&id(1), at(0), text), None);
    assert_eq!(disabled.observe(&id(2), at(0), text), None);

    let wide = NearDuplicateWindow::new(NearDuplicateConfig { max_distance: 99, ..Default::default() });
    assert_eq!(wide.config().max_distance, MAX_SUPPORTED_DISTANCE);

    let mut window = NearDuplicateWindow::new(NearDuplicateConfig {
        max_age: TimeDelta::MAX,
        ..NearDuplicateConfig::default()
    });
    let huge = "word ".repeat(250_000);
    let one_word = "é".repeat(1_000_000);
    let inputs = [
        huge.as_str(),
        one_word.as_str(),
        "\u{0}\u{1}\u{200b}\u{feff} \u{10FFFF}",
        "RT RT RT @ @ # # via via",
        "a b c d e f g",
    ];
    for (i, text) in inputs.iter().enumerate() {
        window.observe(&id(i), DateTime::<Utc>::MIN_UTC, text);
        window.observe(&id(i + 100), DateTime::<Utc>::MAX_UTC, text);
    }
}

#[test]
fn a_half_hashes_as_if_it_were_fingerprinted_alone() {
    let text = "the new lounge at terminal two finally opened and the coffee there is actually very good";
    let words: Vec<Cow<'_, str>> = text.split(' ').map(Cow::Borrowed).collect();
    let split = half_split(&words).unwrap();
    assert!((MIN_HALF_WORDS..=words.len() - MIN_HALF_WORDS).contains(&split));
    let halves = Fingerprint::of_words(&words).halves.unwrap();
    assert_eq!(halves[0], Fingerprint::of_words(&words[..split]).whole);
    assert_eq!(halves[1], Fingerprint::of_words(&words[split..]).whole);
    assert_eq!(Fingerprint::of_words(&words[..9]).halves, None, "9 words are too few to halve");
}

#[test]
fn stretched_words_and_laughter_do_not_dominate() {
    assert_eq!(squeeze("soooooo"), "soo");
    assert_eq!(squeeze("kkkkkkkkkkkkkk"), "kk");
    assert_eq!(squeeze("مقيمـــــــــــة"), "مقيمة");
    assert_eq!(squeeze("ـــ"), "");
    assert_eq!(
        fingerprint("the show tonight was sooooooo good kkkkkkkkkkkkkkkkkkkkkk"),
        fingerprint("the show tonight was soooo good kkkkkkk")
    );
    let answers = observe_all(&[
        "Q MANCADA ASSUSTAR AS TIAS DA FAXINA KKKKKKKKKKKKKKKKKK PORRA #TheNoite",
        "KKKKKKKKKKKKKK JA DEU AQUELA BULINADA NA JU #TheNoite",
        "Kkkkkkkkkkkkkkkkkkkk mano a vergonha alheia desse quadro, nunca faria. Puta merda #TheNoite",
        "ارمــــــــــــلة سورية مقيمـــــــــــــــــــــــة تـــبحث عن ابن الحلال  http",
        "أرمـــــــلة سورية 42 س مــــــــــقيمة  تبــحث عن زوج مــــــــــــسيار  http",
    ]);
    assert!(answers.iter().all(Option::is_none), "{answers:?}");
}

#[test]
fn trailing_noise_is_stripped_but_never_everything() {
    assert_eq!(strip_trailing_noise("great deal today #ad #sponsored"), "great deal today");
    assert_eq!(strip_trailing_noise("read this https://x.y/z via @news 🔥"), "read this");
    assert_eq!(strip_trailing_noise("#only #tags"), "#only #tags");
    assert_eq!(strip_trailing_noise("shared by @me by the way"), "shared by @me by the way");
    assert_eq!(strip_trailing_noise(""), "");
}

/// The 1,000 posts of the shipped demo sample (TweetEval and XLM-T
/// tweets, see `config/sample/README.md`).
fn sample_posts() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/sample");
    let mut texts = Vec::new();
    let ndjson = std::fs::read_to_string(dir.join("acme-air.ndjson")).unwrap();
    for line in ndjson.lines() {
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(line) {
            texts.push(value["text"].as_str().unwrap().to_owned());
        }
    }
    let csv = std::fs::read_to_string(dir.join("streamly.csv")).unwrap();
    for line in csv.lines().skip(1) {
        // id,text,…: the text is the second field, quoted when it holds
        // commas, with quotes doubled.
        let rest = line.split_once(',').unwrap().1;
        let text = match rest.strip_prefix('"') {
            Some(quoted) => {
                let mut text = String::new();
                let mut chars = quoted.chars().peekable();
                while let Some(c) = chars.next() {
                    match (c, chars.peek()) {
                        ('"', Some('"')) => {
                            text.push('"');
                            chars.next();
                        }
                        ('"', _) => break,
                        _ => text.push(c),
                    }
                }
                text
            }
            None => rest.split(',').next().unwrap().to_owned(),
        };
        texts.push(text);
    }
    texts
}

fn word_set(text: &str) -> HashSet<String> {
    text::normalize(strip_trailing_noise(text)).tokens.into_iter().map(|token| token.word).collect()
}

#[test]
fn the_demo_sample_has_no_false_positives() {
    let texts = sample_posts();
    assert_eq!(texts.len(), 1_000);
    let mut window = NearDuplicateWindow::default();
    let ids: Vec<PostId> = (0..texts.len()).map(id).collect();
    let (mut exact, mut near, mut false_positives) = (0, 0, Vec::new());
    for (i, text) in texts.iter().enumerate() {
        let Some(dup) = window.observe(&ids[i], at(i as i64), text) else {
            continue;
        };
        let j = ids.iter().position(|id| *id == dup).unwrap();
        let (a, b) = (word_set(text), word_set(&texts[j]));
        let jaccard = a.intersection(&b).count() as f64 / a.union(&b).count().max(1) as f64;
        if a == b {
            exact += 1;
        } else if jaccard >= 0.5 {
            near += 1;
            println!("near duplicate (Jaccard {jaccard:.2}):\n  {}\n  {text}", texts[j]);
        } else {
            false_positives.push((texts[j].clone(), text.clone()));
        }
    }
    println!("sample: {exact} repeated texts, {near} near duplicates, {} false", false_positives.len());
    assert!(false_positives.is_empty(), "{false_positives:#?}");
    // The sample repeats some tweets verbatim (the source datasets do).
    assert!(exact >= 50, "{exact}");
}

#[test]
fn small_edits_to_sample_posts_are_mostly_caught() {
    let texts = sample_posts();
    let (mut tried, mut rewrapped, mut edited) = (0, 0, 0);
    for text in &texts {
        let words: Vec<&str> = text.split_whitespace().collect();
        if words.len() < 12 || Fingerprint::of(text).is_none() {
            continue;
        }
        tried += 1;
        let original = fingerprint(text);
        let wrapped = format!("RT @someone: {text} https://t.co/Zx81kq #promo #ad");
        if fingerprint(&wrapped).is_near_duplicate(original, 7) {
            rewrapped += 1;
        }
        let mut replaced: Vec<String> = words.iter().map(|word| (*word).to_owned()).collect();
        replaced[words.len() / 2] = "banana".to_owned();
        if Fingerprint::of(&replaced.join(" ")).is_some_and(|f| f.is_near_duplicate(original, 7)) {
            edited += 1;
        }
    }
    println!("{tried} posts: rewrapped caught {rewrapped}, one word replaced caught {edited}");
    assert_eq!(rewrapped, tried);
    assert!(edited as f64 >= 0.8 * tried as f64, "{edited} of {tried}");
}
