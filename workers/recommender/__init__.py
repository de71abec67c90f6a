"""Top-k product recommendations per user or audience segment: pure numpy over arrays.

No Celery, no SQL, no model: the caller hands in a :class:`Catalog` (unit-length product
vectors from :mod:`workers.embeddings` plus the facts the rules need) and :class:`Subject` s
(users with their interaction histories, or segments with a vector from their description).

How a list is made, for a batch of subjects at once:

1. **Vectors.** A user's vector is the sum of the vectors of the products in their history,
   each weighted by its event type (:data:`EVENT_WEIGHTS`), the file's optional weight, and a
   recency decay with a half-life counted back from the newest interaction of the data set
   (not the wall clock, so a re-run gives the same lists). A segment's vector is the
   embedding of its description.
2. **Relevance** = inner product (a cosine: every vector is unit length) plus
   ``popularity_weight`` × a popularity prior in [0, 1] (log of decayed interaction weight).
   A user with no usable history is cold: with a segment, they get the products most popular
   among the ``COLD_POOL`` products closest to the segment; without one, the most popular.
3. **Rules before the cut-off.** Out of stock, outside the price band, already purchased (and,
   if asked, anything already seen) are removed before candidates are chosen, so a rule never
   leaves a list short when enough products qualify.
4. **Re-ranking.** The best ``candidates`` go through MMR (maximal marginal relevance): each
   next item maximises ``(1 − diversity) × relevance − diversity × max cosine to the items
   already chosen``, skipping items whose category already has ``category_quota`` items.
5. **Reasons.** "similar to X you viewed" names the history item closest to the
   recommendation; cold lists and items chosen mostly for popularity say "popular in Y".
"""

from contentfab.workers.recommender.data import (
    CART,
    DEFAULT_HALF_LIFE_DAYS,
    DEFAULT_POPULARITY_WEIGHT,
    EVENT_VERBS,
    EVENT_WEIGHTS,
    EVENTS,
    NEG,
    PURCHASE,
    VIEW,
    BoolArray,
    Catalog,
    FloatArray,
    History,
    HistoryIndex,
    IntArray,
    Interactions,
    event_strength,
    group_histories,
    popularity_prior,
    product_text,
)
from contentfab.workers.recommender.ranking import (
    ANN_MIN_PRODUCTS,
    COLD_POOL,
    CandidateIndex,
    Recommendation,
    RecommendedItem,
    Rules,
    Subject,
    allowed_products,
    choose,
    mmr,
    recommend,
    select,
    subject_vectors,
    top_candidates,
)

__all__ = [
    "ANN_MIN_PRODUCTS",
    "CART",
    "COLD_POOL",
    "DEFAULT_HALF_LIFE_DAYS",
    "DEFAULT_POPULARITY_WEIGHT",
    "EVENTS",
    "EVENT_VERBS",
    "EVENT_WEIGHTS",
    "NEG",
    "PURCHASE",
    "VIEW",
    "BoolArray",
    "CandidateIndex",
    "Catalog",
    "FloatArray",
    "History",
    "HistoryIndex",
    "IntArray",
    "Interactions",
    "Recommendation",
    "RecommendedItem",
    "Rules",
    "Subject",
    "allowed_products",
    "choose",
    "event_strength",
    "group_histories",
    "mmr",
    "popularity_prior",
    "product_text",
    "recommend",
    "select",
    "subject_vectors",
    "top_candidates",
]
