"""Memory: what outlives one run, on disk (imports the layers below).

home            the campaign home and its store (the send registry, campaigns, replies, opt-outs)
location        which home: a folder (SQLite) or a postgresql:// URL (the team home), shown redacted
records         what both stores share: registry columns, time text, packed numbers read in Arrow
postgres        PostgresStore: the team's home on PostgreSQL (psycopg imported only here, lazily)
postgres_lock   one runner per plan across a team: a session advisory lock naming its holder
transfer        home info, and copying a personal home into a team home
reservations    the SQLite home's reservations: who may be texted, decided before each request
history         History: the store read as DataFrames
journal         the send journal: per batch, what the engine knows (journal_schema, parquet,
                background hold its file format, recipients copy and background work)
journal_reads   an earlier journal read: whom it texted, whether a file is one
lock            one runner per journal
replies         the reply store
people          the people of each campaign kept in the home (arms, hold-out, ids)
keys, times     number keys and microsecond times shared by the reads
sqlite          one way to open the project's SQLite files for writing
"""
