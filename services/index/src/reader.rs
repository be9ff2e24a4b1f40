//! Read-only access to an account's index: search, lookups and report facts.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use smo_proto::{AccountId, EnrichedPost, Intent, PostId, Sentiment};
use tantivy::collector::sort_key::{SortBySimilarityScore, SortByStaticFastValue};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocAddress, Index, IndexReader, Order, ReloadPolicy, Searcher, TantivyDocument, Term};

use crate::error::IndexError;
use crate::facts::{IndexFacts, collect_facts};
use crate::query::PostQueryParser;
use crate::schema::{PostFields, names};

/// Most hits one search returns, whatever the limit asked for.
pub const MAX_SEARCH_LIMIT: usize = 10_000;

/// How search hits are ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchOrder {
    /// Most recent first (ties by relevance): a monitoring feed.
    #[default]
    Newest,
    /// Best BM25 match first: a research query.
    Relevance,
}

/// One post matching a search, with what a result list shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    /// The post's id.
    pub id: PostId,
    /// BM25 relevance of the post to the query (1 for a match-all query).
    pub score: f32,
    /// When the author published it.
    pub created_at: DateTime<Utc>,
    /// The author's handle, as written on the platform.
    pub author_handle: String,
    /// Detected language code.
    pub lang: String,
    /// Polarity.
    pub sentiment: Sentiment,
    /// What the author wants.
    pub intent: Intent,
    /// The account's topic tags that matched.
    pub tags: Vec<String>,
    /// The post's text.
    pub text: String,
    /// Link to the post on its platform.
    pub url: Option<String>,
    /// Urgency for agents in `[0, 1]`.
    pub priority: f32,
}

impl SearchHit {
    fn new(score: f32, enriched: EnrichedPost) -> Self {
        let EnrichedPost { post, language, sentiment, intent, tags, priority, .. } = enriched;
        Self {
            id: post.id,
            score,
            created_at: post.created_at,
            author_handle: post.author.handle,
            lang: language.code,
            sentiment: sentiment.label,
            intent,
            tags,
            text: post.text,
            url: post.url,
            priority,
        }
    }
}

/// A read-only, point-in-time view of one account's index; cheap to query
/// from many threads at once (`Send + Sync`). Opened with
/// [`crate::IndexRoot::open_reader`].
pub struct AccountReader {
    account: AccountId,
    reader: IndexReader,
    fields: PostFields,
    parser: PostQueryParser,
}

impl std::fmt::Debug for AccountReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountReader").field("account", &self.account).finish_non_exhaustive()
    }
}

impl AccountReader {
    pub(crate) fn new(account: AccountId, index: Index) -> Result<Self, IndexError> {
        let fields = PostFields::new(&index.schema())?;
        let parser = PostQueryParser::new(&index, &fields);
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(Self { account, reader, fields, parser })
    }

    /// The account this reader reads.
    pub fn account(&self) -> &AccountId {
        &self.account
    }

    /// Picks up commits made since the reader was opened or last reloaded.
    /// Searches in progress keep the view they started with.
    pub fn reload(&self) -> Result<(), IndexError> {
        self.reader.reload()?;
        Ok(())
    }

    /// Number of posts in the index.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Number of documents with this post id: 0 or 1 unless idempotency is
    /// broken, which is what tests use it to prove.
    pub fn count_by_id(&self, id: &PostId) -> Result<u64, IndexError> {
        let count = self.reader.searcher().search(&self.id_query(id), &Count)?;
        Ok(count as u64)
    }

    /// The stored enriched post with this id, if indexed.
    pub fn get(&self, id: &PostId) -> Result<Option<EnrichedPost>, IndexError> {
        let searcher = self.reader.searcher();
        let hits = searcher.search(&self.id_query(id), &TopDocs::with_limit(1).order_by_score())?;
        match hits.first() {
            Some((_, address)) => Ok(Some(self.load(&searcher, *address)?)),
            None => Ok(None),
        }
    }

    /// Posts matching `query` (see the [query language](crate::query)),
    /// newest first, at most `limit` (capped at [`MAX_SEARCH_LIMIT`]).
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>, IndexError> {
        self.search_ordered(query, limit, SearchOrder::Newest)
    }

    /// Like [`Self::search`], in the given order.
    pub fn search_ordered(
        &self,
        query: &str,
        limit: usize,
        order: SearchOrder,
    ) -> Result<Vec<SearchHit>, IndexError> {
        let parsed = self.parser.parse(query)?;
        let limit = limit.min(MAX_SEARCH_LIMIT);
        if limit == 0 {
            return Ok(Vec::new());
        }
        let searcher = self.reader.searcher();
        let scored: Vec<(f32, DocAddress)> = match order {
            SearchOrder::Relevance => {
                searcher.search(&parsed, &TopDocs::with_limit(limit).order_by_score())?
            }
            SearchOrder::Newest => {
                let newest_then_best = (
                    (SortByStaticFastValue::<tantivy::DateTime>::for_field(names::CREATED_AT), Order::Desc),
                    (SortBySimilarityScore, Order::Desc),
                );
                searcher
                    .search(&parsed, &TopDocs::with_limit(limit).order_by(newest_then_best))?
                    .into_iter()
                    .map(|((_, score), address)| (score, address))
                    .collect()
            }
        };
        scored
            .into_iter()
            .map(|(score, address)| Ok(SearchHit::new(score, self.load(&searcher, address)?)))
            .collect()
    }

    /// Counts and top posts of the posts created in `[from, to)`, for reports.
    /// `top_n` bounds both the tag list and the top-post list.
    pub fn facts(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        top_n: usize,
    ) -> Result<IndexFacts, IndexError> {
        if from >= to {
            return Err(IndexError::InvalidPeriod { from, to });
        }
        let searcher = self.reader.searcher();
        collect_facts(&searcher, &self.fields, from, to, top_n, |address| self.load(&searcher, address))
    }

    fn id_query(&self, id: &PostId) -> impl Query + use<> {
        TermQuery::new(Term::from_field_text(self.fields.id, id.as_str()), IndexRecordOption::Basic)
    }

    fn load(&self, searcher: &Searcher, address: DocAddress) -> Result<EnrichedPost, IndexError> {
        let document: TantivyDocument = searcher.doc(address)?;
        let json = document
            .get_first(self.fields.enriched)
            .and_then(|value| value.as_str().map(str::to_owned))
            .ok_or_else(|| IndexError::CorruptDocument("no stored `enriched` field".to_owned()))?;
        serde_json::from_str(&json).map_err(|err| IndexError::CorruptDocument(err.to_string()))
    }
}
