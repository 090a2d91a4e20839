"""Memory: what outlives one run, on disk (imports the layers below).

home            the campaign home and its store (the send registry, campaigns, replies, opt-outs)
history         History: the store read as DataFrames
journal         the send journal: per batch, what the engine knows (journal_schema, parquet,
                background hold its file format, recipients copy and background work)
lock            one runner per journal
replies         the reply store
people          the people of each campaign kept in the home (arms, hold-out, ids)
keys, times     number keys and microsecond times shared by the reads
sqlite          one way to open the project's SQLite files for writing
"""
