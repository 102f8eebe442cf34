"""AWSome core library: emotions, vision, music, storage, auth. Never imports streamlit."""

from awsome_core.config import Settings
from awsome_core.emotions import EMOTIONS
from awsome_core.errors import AwsomeError

__all__ = ["EMOTIONS", "AwsomeError", "Settings"]
