"""Music for a mood: the track catalog, the recommender, Spotify embeds and the optional Spotify API.

Modules: ``records`` (shared value types), ``catalog`` (CSV import, stats), ``layouts`` (CSV formats),
``download`` (the public catalog), ``starter`` (the packaged starter catalog), ``features`` + ``index`` +
``recommender`` + ``explain`` (ranking and its words), ``embed`` (player URLs/HTML), ``spotify`` (optional
spotipy client; imported on demand), ``cli`` (``awsome catalog``, ``awsome recommend``).
"""

from awsome_core.music.catalog import import_catalog_file
from awsome_core.music.embed import embed_html
from awsome_core.music.recommender import STRATEGIES, RecommendedTrack, recommend_tracks
from awsome_core.music.records import ImportReport, TrackRecord

__all__ = [
    "STRATEGIES",
    "ImportReport",
    "RecommendedTrack",
    "TrackRecord",
    "embed_html",
    "import_catalog_file",
    "recommend_tracks",
]
