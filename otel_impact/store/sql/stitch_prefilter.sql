-- Optional condition added to stitch_grouped.sql's prediction scan when only predictions that
-- some outcome can reach matter (attribution): with buckets of one join window measured from
-- the first visible prediction, a prediction at t can be eligible for an outcome at ot only if
-- t's bucket is ot - window's bucket or ot's bucket. The set holds hashes of (key, bucket); a
-- hash collision only lets an extra prediction through, which the exact window test then drops,
-- so the result is unchanged — the aggregation just sees far fewer rows. The key string is hashed
-- together with the bucket (one hash per row; the key's own hash is then computed only for the
-- rows that pass). Probing this set for every prediction is about a third of the query's cost.
AND cityHash64(toString({pkey:Identifier}), intDiv(t - {pstart_ns:Int64}, {window_ns:Int64})) IN
(
    SELECT cityHash64(k, arrayJoin([intDiv(t - {window_ns:Int64} - {pstart_ns:Int64}, {window_ns:Int64}),
                                    intDiv(t - {pstart_ns:Int64}, {window_ns:Int64})]))
    FROM ( /*OUTCOMES*/ )
    WHERE k != ''
)
