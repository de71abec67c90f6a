"""The campaign layer: a campaign file and everything it names, read and checked into plain
records before anything is stored or sent.

``spec`` (the schema and its limits), ``catalog`` (product rows), ``load``
(:func:`load_campaign`: the whole file or every problem found), ``problems`` (size-limited
reads, validation errors as file/row/field/why), ``interactions`` and ``pseudonyms`` (the
recommendations' event log), ``creatives`` (image requests), ``files`` (paths confined to the
campaign's folder). Only :mod:`contentfab.core` is below this layer.
"""

from contentfab.campaign.catalog import ProductRecord
from contentfab.campaign.load import LoadedCampaign, load_campaign
from contentfab.campaign.spec import (
    CAMPAIGN_SUFFIXES,
    CATALOG_COLUMNS,
    CATALOG_SUFFIXES,
    DEFAULT_RECS_MODEL,
    MAX_CAMPAIGN_BYTES,
    MAX_CATALOG_BYTES,
    MAX_COPY_VARIANTS,
    MAX_PROBLEMS,
    MAX_PRODUCTS,
    MAX_RECOMMENDATION_SUBJECTS,
    AttributeValue,
    BrandKit,
    BrandStyle,
    CampaignSpec,
    CopyRequest,
    CopySlotSpec,
    CustomChannel,
    RecommendationsRequest,
    Segment,
)

__all__ = [
    "CAMPAIGN_SUFFIXES",
    "CATALOG_COLUMNS",
    "CATALOG_SUFFIXES",
    "DEFAULT_RECS_MODEL",
    "MAX_CAMPAIGN_BYTES",
    "MAX_CATALOG_BYTES",
    "MAX_COPY_VARIANTS",
    "MAX_PROBLEMS",
    "MAX_PRODUCTS",
    "MAX_RECOMMENDATION_SUBJECTS",
    "AttributeValue",
    "BrandKit",
    "BrandStyle",
    "CampaignSpec",
    "CopyRequest",
    "CopySlotSpec",
    "CustomChannel",
    "LoadedCampaign",
    "ProductRecord",
    "RecommendationsRequest",
    "Segment",
    "load_campaign",
]
