"""Music for a mood: the track catalog, the recommender, Spotify embeds and the optional Spotify API.

Modules: ``catalog`` (records, CSV import, stats), ``layouts`` (CSV formats), ``download`` (the public
catalog), ``starter`` (built-in songs for offline first runs), ``index`` + ``recommender`` (ranking),
``embed`` (player HTML), ``spotify`` (optional spotipy client; imported on demand), ``cli``
(``awsome catalog``).
"""

from awsome_core.music.catalog import ImportReport, TrackRecord, import_catalog_file
from awsome_core.music.embed import embed_html
from awsome_core.music.recommender import STRATEGIES, RecommendedTrack, recommend_tracks

__all__ = [
    "STRATEGIES",
    "ImportReport",
    "RecommendedTrack",
    "TrackRecord",
    "embed_html",
    "import_catalog_file",
    "recommend_tracks",
]
