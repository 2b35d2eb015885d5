"""The raters' reliability study: its definition and faces, the vote database, a rater's
session, the statistics of the votes, and the report that presents them."""
