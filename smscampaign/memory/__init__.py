"""Memory: what outlives one run, on disk (imports the layers below).

home            the campaign home and its store (the send registry, campaigns, replies, opt-outs)
reservations    the SQLite home's reservations: who may be texted, decided before each request
history         History: the store read as DataFrames
journal         the send journal: per batch, what the engine knows (journal_schema, parquet,
                background hold its file format, recipients copy and background work)
lock            one runner per journal
replies         the reply store
keys, times     number keys and microsecond times shared by the reads
sqlite          one way to open the project's SQLite files for writing
"""
