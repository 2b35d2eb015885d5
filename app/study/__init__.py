"""The raters' reliability study: its definition and faces, the vote database, a rater's
session, and the report (statistics and their presentation)."""
