//! Plain, explainable spam signals. Each signal is a simple count or phrase
//! check with a documented threshold and a weight; the weights combine as a
//! noisy-OR, `score = 1 − Π(1 − weight)`, so independent evidence adds up, the
//! score stays in `[0, 1]`, and no single weak signal makes a post spam.
//! A score of [`SpamVerdict::THRESHOLD`] (0.5) or more reads as spam.
//!
//! | signal | fires when | weight |
//! | --- | --- | --- |
//! | `phrase:…` (strong) | a follow-bait, fake-follower, crypto-giveaway, prize-scam or promo-for-hire phrase, in English, Spanish, Portuguese, French, German, Italian, Indonesian or Turkish (`phrase:free followers`) | 0.6 each |
//! | `hashtag:…` | a follow-ring hashtag (`hashtag:teamfollowback`, `hashtag:f4f`) | 0.6 each |
//! | `phrase:…` (weak) | a phrase common in spam but also in ham: calls to action (`click here`, `link in bio`, `giveaway`), `follow back` (customers ask brands to, to DM them), `you have won` (brands announce contest winners) | 0.25 each |
//! | `link_only` | the text is links (and handles, hashtags) with no word of its own | 0.45 |
//! | `hashtag_heavy` | 6+ hashtags, or 3+ and at least as many as other words | 0.35 |
//! | `mention_heavy` | 8+ handles, or 5+ in a post that is not a reply (replies carry the thread's handles) | 0.3; 0.45 when handles outnumber words |
//! | `link_heavy` | 3+ links | 0.3; 0.45 when links outnumber words |
//! | `no_followers_with_link` | the author has 0 followers and the post has a link | 0.3 |
//! | `few_followers_with_link` | 1–9 followers and a link | 0.15 |
//! | `repeated_words` | a word 3 times in a row, or one word making 40% of 8+ words | 0.2 |
//! | `url_shortener` | a link through a public shortener (`bit.ly`, `tinyurl.com`…; not the platforms' own wrappers such as `t.co`) | 0.15 |
//! | `all_caps` | 4+ words, all in capitals | 0.15 |
//! | `repeated_characters` | a letter or digit 6 times in a row, or any other character 10 times | 0.1 |
//!
//! So "Follow me and I follow back! #f4f #followback #teamfollowback"
//! (follow-bait phrases and hashtags) scores above 0.99, a bare shortened link from a zero-follower
//! account 0.67, an angry all-caps complaint with a `bit.ly` link 0.28, a
//! brand's "enter our giveaway" post 0.25.

use std::collections::HashMap;

use smo_proto::{Post, SpamSignals};

use crate::hashing::FastMap;
use crate::text::{self, NormalizedText};

/// Why a post looks like spam: a score in `[0, 1]` and the names of the
/// signals that fired (see the module documentation).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SpamVerdict {
    /// Spam likelihood in `[0, 1]`, the noisy-OR of the fired signals' weights.
    pub score: f32,
    /// Names of the fired signals, in the order of the module's table.
    pub signals: Vec<&'static str>,
}

impl SpamVerdict {
    /// Score at and above which a post is treated as spam.
    pub const THRESHOLD: f32 = SpamSignals::THRESHOLD;

    /// Whether the score reaches [`Self::THRESHOLD`].
    pub fn is_spam(&self) -> bool {
        self.score >= Self::THRESHOLD
    }

    fn fire(&mut self, signal: &'static str, weight: f32) {
        self.signals.push(signal);
        self.score = 1.0 - (1.0 - self.score) * (1.0 - weight.clamp(0.0, 1.0));
    }
}

impl From<SpamVerdict> for SpamSignals {
    fn from(verdict: SpamVerdict) -> Self {
        Self {
            score: verdict.score.clamp(0.0, 1.0),
            signals: verdict.signals.into_iter().map(str::to_owned).collect(),
        }
    }
}

/// Scores posts for spam. Build once (it tokenises its phrase lists) and
/// share; scoring only reads it.
#[derive(Debug, Clone)]
pub struct SpamScorer {
    /// First token of a phrase → the phrases starting with it.
    phrases: FastMap<String, Vec<Phrase>>,
}

#[derive(Debug, Clone)]
struct Phrase {
    /// The phrase's tokens after the first.
    rest: Vec<String>,
    /// `phrase:` followed by the phrase as listed.
    signal: &'static str,
    weight: f32,
}

const STRONG_PHRASE: f32 = 0.6;
const WEAK_PHRASE: f32 = 0.25;

/// Phrases that are almost never ham: follow-bait, bought followers and
/// likes, crypto giveaways, prize scams, promotion for hire. Written as the
/// signal they raise; the part after `phrase:` is tokenised like posts are.
const STRONG_PHRASES: &[&str] = &[
    // English
    "phrase:i follow back",
    "phrase:i follow you back",
    "phrase:i'll follow back",
    "phrase:follow for follow",
    "phrase:follow4follow",
    "phrase:f4f",
    "phrase:teamfollowback",
    "phrase:instantfollow",
    "phrase:free followers",
    "phrase:get followers",
    "phrase:gain followers",
    "phrase:buy followers",
    "phrase:cheap followers",
    "phrase:instant followers",
    "phrase:more followers",
    "phrase:free likes",
    "phrase:buy likes",
    "phrase:sub4sub",
    "phrase:like4like",
    "phrase:l4l",
    "phrase:crypto giveaway",
    "phrase:bitcoin giveaway",
    "phrase:btc giveaway",
    "phrase:eth giveaway",
    "phrase:free bitcoin",
    "phrase:free crypto",
    "phrase:double your bitcoin",
    "phrase:double your btc",
    "phrase:double your crypto",
    "phrase:airdrop",
    "phrase:dm for promo",
    "phrase:dm for promotion",
    "phrase:dm for collab",
    "phrase:dm me for promo",
    "phrase:you have been selected",
    "phrase:claim your prize",
    "phrase:claim your reward",
    "phrase:win a free",
    "phrase:free cash",
    "phrase:free money",
    "phrase:make money online",
    "phrase:make money fast",
    "phrase:earn money from home",
    "phrase:work from home and earn",
    "phrase:100% free",
    // Spanish
    "phrase:sígueme y te sigo",
    "phrase:sigueme y te sigo",
    "phrase:te sigo de vuelta",
    "phrase:seguidores gratis",
    "phrase:compra seguidores",
    "phrase:gana dinero desde casa",
    // Portuguese
    "phrase:sigo de volta",
    "phrase:seguidores grátis",
    "phrase:ganhe seguidores",
    "phrase:comprar seguidores",
    "phrase:ganhe dinheiro",
    // French
    "phrase:abonnés gratuits",
    "phrase:gagner des abonnés",
    "phrase:gagnez de l'argent",
    // German
    "phrase:kostenlose follower",
    "phrase:follower kaufen",
    "phrase:folge zurück",
    "phrase:geld verdienen von zu hause",
    // Italian
    "phrase:follower gratis",
    "phrase:seguaci gratis",
    "phrase:ricambio follow",
    "phrase:guadagna soldi",
    // Indonesian, Malay
    "phrase:saling follow",
    // Turkish
    "phrase:takip edene takip",
    "phrase:takipçi satın al",
    "phrase:ücretsiz takipçi",
];

/// Phrases frequent in spam but also used by real brands and customers
/// ("follow back so I can DM", "you have won" from a brand's contest); they
/// only tip the balance together with other signals.
const WEAK_PHRASES: &[&str] = &[
    "phrase:follow back",
    "phrase:followback",
    "phrase:follow you back",
    "phrase:follback",
    "phrase:folback",
    "phrase:you have won",
    "phrase:you've won",
    "phrase:has ganado",
    "phrase:você ganhou",
    "phrase:vous avez gagné",
    "phrase:sie haben gewonnen",
    "phrase:hai vinto",
    "phrase:click here",
    "phrase:click the link",
    "phrase:link in bio",
    "phrase:link in my bio",
    "phrase:check my bio",
    "phrase:check out my profile",
    "phrase:check my profile",
    "phrase:subscribe to my channel",
    "phrase:giveaway",
    "phrase:limited time offer",
    "phrase:limited offer",
    "phrase:act now",
    "phrase:buy now",
    "phrase:order now",
    "phrase:join now",
    "phrase:free gift",
    "phrase:gift card",
    "phrase:haz clic aquí",
    "phrase:haz click aquí",
    "phrase:link en mi bio",
    "phrase:sorteo",
    "phrase:clique aqui",
    "phrase:link na bio",
    "phrase:sorteio",
    "phrase:cliquez ici",
    "phrase:lien en bio",
    "phrase:hier klicken",
    "phrase:klicke hier",
    "phrase:gewinnspiel",
    "phrase:clicca qui",
    "phrase:klik di sini",
    "phrase:klik disini",
    "phrase:buraya tıkla",
];

/// Hashtags of follow-for-follow rings: as hashtags (not words) they are
/// almost never ham. Written as the signal they raise.
const FOLLOW_BAIT_HASHTAGS: &[&str] = &[
    "hashtag:followback",
    "hashtag:teamfollowback",
    "hashtag:ifollowback",
    "hashtag:f4f",
    "hashtag:follow4follow",
    "hashtag:followforfollow",
    "hashtag:instantfollow",
    "hashtag:autofollow",
    "hashtag:followtrain",
    "hashtag:500aday",
    "hashtag:1000aday",
    "hashtag:siguemeytesigo",
    "hashtag:sdv",
    "hashtag:folback",
    "hashtag:follback",
    "hashtag:l4l",
    "hashtag:like4like",
    "hashtag:sub4sub",
];

/// Public URL shorteners: they hide where a link goes, which spam wants.
/// Platforms' own wrappers (`t.co`, `lnkd.in`, `youtu.be`, `amzn.to`) wrap
/// every ordinary link and are left out.
const SHORTENERS: &[&str] = &[
    "bit.ly",
    "bitly.com",
    "tinyurl.com",
    "goo.gl",
    "ow.ly",
    "is.gd",
    "v.gd",
    "buff.ly",
    "t.ly",
    "cutt.ly",
    "rebrand.ly",
    "shorturl.at",
    "rb.gy",
    "tiny.cc",
    "bl.ink",
    "s.id",
    "adf.ly",
    "shorte.st",
    "bc.vc",
    "ouo.io",
    "x.co",
    "tr.im",
    "soo.gd",
    "clck.ru",
    "u.to",
    "shrtco.de",
];

/// Hashtags from which a post is hashtag-heavy regardless of its length.
const MANY_HASHTAGS: usize = 6;
/// Hashtags from which a post is hashtag-heavy when they are at least as
/// many as its other words.
const SOME_HASHTAGS: usize = 3;
/// Handles from which any post is mention-heavy.
const MANY_MENTIONS: usize = 8;
/// Handles from which a post that is not a reply is mention-heavy.
const SOME_MENTIONS: usize = 5;
/// Links from which a post is link-heavy.
const MANY_LINKS: usize = 3;
/// Followers below which an author posting links is suspicious.
const FEW_FOLLOWERS: u64 = 10;
/// Words from which capitals mean shouting rather than an acronym.
const CAPS_WORDS: usize = 4;
/// Same letter or digit in a row (`freeeeee`).
const REPEATED_LETTERS: usize = 6;
/// Same other character in a row (`!!!!!!!!!!`, `💰💰💰…`).
const REPEATED_SYMBOLS: usize = 10;
/// Same word in a row (`win win win`).
const REPEATED_WORD_RUN: usize = 3;
/// Words from which one word's share of them is checked.
const REPEATED_WORD_MIN_WORDS: usize = 8;
/// Share of the words one word may make before it is repetition.
const REPEATED_WORD_SHARE: f32 = 0.4;

impl Default for SpamScorer {
    fn default() -> Self {
        Self::new()
    }
}

impl SpamScorer {
    /// Tokenises the built-in phrase lists.
    pub fn new() -> Self {
        let mut phrases: FastMap<String, Vec<Phrase>> = FastMap::default();
        let lists = [(STRONG_PHRASES, STRONG_PHRASE), (WEAK_PHRASES, WEAK_PHRASE)];
        for (list, weight) in lists {
            for &signal in list {
                let listed = signal.strip_prefix("phrase:").unwrap_or(signal);
                let mut tokens = text::tokenize(listed).into_iter().map(|token| token.word);
                let Some(first) = tokens.next() else {
                    continue;
                };
                phrases.entry(first).or_default().push(Phrase { rest: tokens.collect(), signal, weight });
            }
        }
        Self { phrases }
    }

    /// Scores `post` from its text and its author's follower count.
    pub fn score(&self, post: &Post) -> SpamVerdict {
        self.score_text(&post.text, post.author.followers, post.in_reply_to.is_some())
    }

    /// Scores a bare text; `followers` is the author's follower count when
    /// known, `is_reply` whether the post answers another (its handles then
    /// address the thread).
    pub fn score_text(&self, raw: &str, followers: Option<u64>, is_reply: bool) -> SpamVerdict {
        self.score_normalized(raw, &text::normalize(raw), followers, is_reply)
    }

    /// [`SpamScorer::score`] with the post's text already normalised (as the
    /// classifier does anyway), so the pipeline normalises it once.
    pub fn score_post_normalized(&self, post: &Post, normalized: &NormalizedText) -> SpamVerdict {
        self.score_normalized(&post.text, normalized, post.author.followers, post.in_reply_to.is_some())
    }

    /// [`SpamScorer::score_text`] with `raw` already normalised.
    pub fn score_normalized(
        &self,
        raw: &str,
        normalized: &NormalizedText,
        followers: Option<u64>,
        is_reply: bool,
    ) -> SpamVerdict {
        let links = Links::of(raw);
        let mut verdict = SpamVerdict::default();

        let mut fired: Vec<&Phrase> = Vec::new();
        for (i, token) in normalized.tokens.iter().enumerate() {
            let Some(candidates) = self.phrases.get(&token.word) else {
                continue;
            };
            for phrase in candidates {
                let rest = normalized.tokens.get(i + 1..i + 1 + phrase.rest.len());
                let matches = rest.is_some_and(|rest| {
                    rest.iter().zip(&phrase.rest).all(|(token, word)| token.word == *word)
                });
                if matches && !fired.iter().any(|seen| seen.signal == phrase.signal) {
                    fired.push(phrase);
                }
            }
        }
        fired.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        for phrase in fired {
            verdict.fire(phrase.signal, phrase.weight);
        }
        for &signal in FOLLOW_BAIT_HASHTAGS {
            let tag = signal.strip_prefix("hashtag:").unwrap_or(signal);
            if normalized.hashtags.iter().any(|hashtag| hashtag == tag) {
                verdict.fire(signal, STRONG_PHRASE);
            }
        }

        let hashtags = normalized.hashtags.len();
        let mentions = normalized.mentions.len();
        let own_words = normalized.tokens.len().saturating_sub(hashtags);
        if links.count > 0 && own_words == 0 {
            verdict.fire("link_only", 0.45);
        }
        if hashtags >= MANY_HASHTAGS || (hashtags >= SOME_HASHTAGS && hashtags >= own_words) {
            verdict.fire("hashtag_heavy", 0.35);
        }
        if mentions >= MANY_MENTIONS || (mentions >= SOME_MENTIONS && !is_reply) {
            let weight = if mentions >= own_words { 0.45 } else { 0.3 };
            verdict.fire("mention_heavy", weight);
        }
        if links.count >= MANY_LINKS {
            let weight = if links.count >= own_words { 0.45 } else { 0.3 };
            verdict.fire("link_heavy", weight);
        }
        if links.count > 0 {
            match followers {
                Some(0) => verdict.fire("no_followers_with_link", 0.3),
                Some(n) if n < FEW_FOLLOWERS => verdict.fire("few_followers_with_link", 0.15),
                _ => {}
            }
        }
        if has_repeated_words(normalized) {
            verdict.fire("repeated_words", 0.2);
        }
        if links.shortened {
            verdict.fire("url_shortener", 0.15);
        }
        if normalized.tokens.len() >= CAPS_WORDS && normalized.is_all_caps() {
            verdict.fire("all_caps", 0.15);
        }
        if has_repeated_characters(raw) {
            verdict.fire("repeated_characters", 0.1);
        }
        verdict.score = verdict.score.clamp(0.0, 1.0);
        verdict
    }
}

/// The links of a raw text.
#[derive(Debug, Default)]
struct Links {
    count: usize,
    shortened: bool,
}

impl Links {
    fn of(raw: &str) -> Self {
        let mut links = Self::default();
        for chunk in raw.split_whitespace() {
            if let Some(host) = link_host(chunk) {
                links.count += 1;
                let host = match host.get(..4) {
                    Some(www) if www.eq_ignore_ascii_case("www.") => host.get(4..).unwrap_or(host),
                    _ => host,
                };
                links.shortened |= SHORTENERS.iter().any(|shortener| host.eq_ignore_ascii_case(shortener));
            }
        }
        links
    }
}

/// The host of `chunk` when it is a link: with a scheme (`https://host/…`),
/// `www.host…`, or a bare `host.tld/path` such as `bit.ly/3xYz`.
fn link_host(chunk: &str) -> Option<&str> {
    let chunk = chunk.trim_start_matches(['(', '[', '"', '\'', '<', '“', '‘']);
    let end_of_host = |rest: &str| {
        rest.find(['/', '?', '#', ':', ')', ']', '"', '\'', '>', ',', '”']).unwrap_or(rest.len())
    };
    if let Some((scheme, rest)) = chunk.split_once("://") {
        let host = &rest[..end_of_host(rest)];
        let scheme_ok = !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphabetic());
        return (scheme_ok && host.contains('.')).then_some(host);
    }
    let has_www = chunk.get(..4).is_some_and(|head| head.eq_ignore_ascii_case("www."));
    let (host, has_path) = match chunk.split_once('/') {
        Some((host, _)) => (host, true),
        None => (&chunk[..end_of_host(chunk)], false),
    };
    let (name, top_level) = host.rsplit_once('.')?;
    let domain_like = !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && top_level.len() >= 2
        && top_level.bytes().all(|b| b.is_ascii_alphabetic());
    (domain_like && (has_www || has_path)).then_some(host)
}

fn has_repeated_words(text: &NormalizedText) -> bool {
    let mut run = 1usize;
    for pair in text.tokens.windows(2) {
        if pair[0].word == pair[1].word && pair[0].word.chars().count() >= 2 {
            run += 1;
            if run >= REPEATED_WORD_RUN {
                return true;
            }
        } else {
            run = 1;
        }
    }
    if text.tokens.len() < REPEATED_WORD_MIN_WORDS {
        return false;
    }
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for token in &text.tokens {
        if token.word.chars().count() >= 2 {
            *counts.entry(token.word.as_str()).or_default() += 1;
        }
    }
    let most = counts.values().copied().max().unwrap_or(0);
    most as f32 >= REPEATED_WORD_SHARE * text.tokens.len() as f32
}

fn has_repeated_characters(raw: &str) -> bool {
    let mut previous: Option<char> = None;
    let mut run = 0usize;
    for c in raw.chars() {
        if Some(c) == previous {
            run += 1;
        } else {
            previous = Some(c);
            run = 1;
        }
        let limit = if c.is_alphanumeric() { REPEATED_LETTERS } else { REPEATED_SYMBOLS };
        if !c.is_whitespace() && run >= limit {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(text: &str) -> SpamVerdict {
        SpamScorer::new().score_text(text, Some(250), false)
    }

    #[test]
    fn follow_bait_and_fake_followers_are_spam() {
        for text in [
            "Follow me and I follow back! #f4f #followback #teamfollowback",
            "GET 1000 FREE FOLLOWERS NOW!!! click here 👉 http://bit.ly/2xFreeFol",
            "Want more followers? Buy followers cheap and fast, DM for promo 💯",
            "sígueme y te sigo 🔁 #followback",
            "FOLLOW ME PLEASE AND I FOLLOW YOU BACK 🙏🙏🙏",
            "Ganhe seguidores grátis agora, clique aqui: https://tinyurl.com/segui",
            "Kostenlose Follower für deinen Account! Hier klicken: https://bit.ly/3kq",
            "sub4sub like4like comment and I will do the same",
        ] {
            let verdict = score(text);
            assert!(verdict.is_spam(), "{text}: {verdict:?}");
        }
    }

    #[test]
    fn crypto_giveaways_and_prize_scams_are_spam() {
        for text in [
            "🚨 HUGE CRYPTO GIVEAWAY 🚨 Send 0.1 ETH and get 1 ETH back! Double your crypto today https://bit.ly/eth2x",
            "Congratulations @jane_doe you have won a $500 gift card! Claim your prize here: https://rb.gy/x7k2",
            "Elon's bitcoin giveaway is live!! free bitcoin for the first 1000 people https://cutt.ly/btc",
            "Make money online from home, earn money from home $3000/week, link in bio",
        ] {
            let verdict = score(text);
            assert!(verdict.is_spam(), "{text}: {verdict:?}");
        }
    }

    #[test]
    fn stuffing_and_link_only_posts_from_empty_accounts_are_spam() {
        let scorer = SpamScorer::new();
        let stuffed = "#win #free #iphone #giveaway #contest #sweepstakes #prize #gift";
        assert!(scorer.score_text(stuffed, Some(40), false).is_spam());
        let mass_mention = "@a1 @b2 @c3 @d4 @e5 @f6 check this out https://bit.ly/x";
        let verdict = scorer.score_text(mass_mention, Some(40), false);
        assert!(verdict.is_spam(), "{verdict:?}");
        assert!(verdict.signals.contains(&"mention_heavy"));
        let bare_link = scorer.score_text("https://bit.ly/3xYz9", Some(0), false);
        assert!(bare_link.is_spam(), "{bare_link:?}");
        assert_eq!(bare_link.signals, vec!["link_only", "no_followers_with_link", "url_shortener"]);
        let links = "deals https://a.example/1 https://b.example/2 https://c.example/3 https://d.example/4";
        assert!(scorer.score_text(links, Some(3), false).is_spam());
        let repeated = "WIN WIN WIN free free free cash cash cash!!!!!!!!!!!! click here";
        let verdict = scorer.score_text(repeated, Some(100), false);
        assert!(verdict.is_spam(), "{verdict:?}");
        assert!(
            verdict.signals.contains(&"repeated_words") && verdict.signals.contains(&"repeated_characters")
        );
    }

    #[test]
    fn customer_care_and_ordinary_posts_are_not_spam() {
        let scorer = SpamScorer::new();
        for text in [
            "@AcmeAir my flight AA123 was cancelled and nobody at the gate can tell me when I can rebook https://t.co/xYz12",
            "@AcmeAir YOU LOST MY BAG AGAIN, THIS IS THE WORST AIRLINE EVER",
            "@AcmeBank is the app down? I can't log in since this morning #outage #help",
            "Loved the new lounge at JFK, thanks @AcmeAir! soooooo comfy 😍",
            "Enter our giveaway to win two tickets to Lisbon! Details: https://acme.example/lisbon",
            "Breaking: AcmeAir to add 12 new routes from Denver next spring https://bit.ly/acme-routes",
            "Great thread on airline refunds, link in bio if you missed it",
            "@AcmeAir I need you to follow back in order to DM you my booking number",
            "@user ¡Enhorabuena! Has ganado el KIT, escríbenos por mensaje privado",
            "¿Alguien sabe si el vuelo a Madrid sale a tiempo? Gracias",
            "Je suis bloqué à CDG depuis 5 heures, aucune info de @AcmeAir 😡",
            "",
        ] {
            let verdict = scorer.score_text(text, Some(250), false);
            assert!(!verdict.is_spam(), "{text}: {verdict:?}");
        }
        // An all-caps complaint is noted, but stays well under the threshold.
        let caps =
            scorer.score_text("@AcmeAir YOU LOST MY BAG AGAIN, THIS IS THE WORST AIRLINE EVER", None, false);
        assert_eq!(caps.signals, vec!["all_caps"]);
    }

    #[test]
    fn handles_in_a_reply_thread_are_not_mass_mentions() {
        let scorer = SpamScorer::new();
        let text = "@anna @ben @carla @dave @erin @frank agreed, the delay was the airport's fault not the airline's";
        assert!(scorer.score_text(text, Some(80), true).signals.is_empty());
        assert!(scorer.score_text(text, Some(80), false).signals.contains(&"mention_heavy"));
    }

    #[test]
    fn phrases_fire_once_and_score_combines_as_noisy_or() {
        let verdict = score("follow back follow back follow back");
        assert_eq!(verdict.signals.iter().filter(|s| **s == "phrase:follow back").count(), 1);
        let mut manual = SpamVerdict::default();
        manual.fire("a", 0.6);
        manual.fire("b", 0.25);
        assert!((manual.score - 0.7).abs() < 1e-6, "1 − 0.4 × 0.75");
        let wire: SpamSignals = manual.into();
        assert_eq!(wire.signals, vec!["a".to_owned(), "b".to_owned()]);
        assert!(wire.is_spam());
    }

    #[test]
    fn weak_phrases_alone_do_not_make_spam() {
        let verdict = score("click here for the full story");
        assert_eq!(verdict.signals, vec!["phrase:click here"]);
        assert!(!verdict.is_spam());
    }

    #[test]
    fn recognises_links_and_shorteners() {
        assert_eq!(link_host("https://bit.ly/3xYz"), Some("bit.ly"));
        assert_eq!(link_host("(http://www.Acme.com/path?q=1)"), Some("www.Acme.com"));
        assert_eq!(link_host("bit.ly/abc"), Some("bit.ly"));
        assert_eq!(link_host("www.acme.com"), Some("www.acme.com"));
        assert_eq!(link_host("and/or"), None);
        assert_eq!(link_host("e.g."), None);
        assert_eq!(link_host("3.5/5"), None);
        assert_eq!(link_host("http://localhost"), None);
        let links = Links::of("see https://t.co/abc and https://WWW.TinyURL.com/x");
        assert_eq!(links.count, 2);
        assert!(links.shortened);
        assert!(
            !Links::of("https://t.co/abc https://youtu.be/x").shortened,
            "platform wrappers are not spam"
        );
    }

    #[test]
    fn follow_ring_hashtags_count_only_as_hashtags() {
        let verdict = score("new here, say hi #teamfollowback");
        assert_eq!(verdict.signals, vec!["phrase:teamfollowback", "hashtag:teamfollowback"]);
        assert!(verdict.is_spam());
        assert!(!score("can you followback so I can DM you the details").is_spam());
    }

    #[test]
    fn every_phrase_tokenises_to_something() {
        let scorer = SpamScorer::new();
        let listed: usize = scorer.phrases.values().map(Vec::len).sum();
        assert_eq!(listed, STRONG_PHRASES.len() + WEAK_PHRASES.len());
        for &signal in STRONG_PHRASES.iter().chain(WEAK_PHRASES) {
            let phrase = signal.strip_prefix("phrase:").unwrap();
            assert!(score(phrase).signals.contains(&signal), "{signal} does not match itself");
        }
    }

    #[test]
    fn odd_inputs_never_panic_and_scores_stay_in_range() {
        let scorer = SpamScorer::new();
        let huge = "free followers https://bit.ly/x #f4f @a ".repeat(30_000);
        let stretched = "a".repeat(1_000_000);
        for text in [
            huge.as_str(),
            stretched.as_str(),
            "\u{0}\u{200b}\u{feff}\u{10FFFF}",
            "://",
            "http://",
            "https://.",
            "(((((",
            "@",
            "#",
            "“‘",
        ] {
            for followers in [None, Some(0), Some(5), Some(u64::MAX)] {
                let verdict = scorer.score_text(text, followers, false);
                assert!((0.0..=1.0).contains(&verdict.score), "{verdict:?}");
            }
        }
    }

    #[test]
    fn few_posts_of_the_demo_sample_are_spam() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/sample");
        let ndjson = std::fs::read_to_string(dir.join("acme-air.ndjson")).unwrap();
        let scorer = SpamScorer::new();
        let (mut posts, mut spam) = (0, Vec::new());
        for line in ndjson.lines() {
            let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let text = value["text"].as_str().unwrap();
            posts += 1;
            let verdict = scorer.score_text(text, value["followers"].as_u64(), false);
            if verdict.is_spam() {
                spam.push((text.to_owned(), verdict));
            }
        }
        assert_eq!(posts, 600);
        assert!(spam.len() <= 3, "{spam:#?}");
    }
}
