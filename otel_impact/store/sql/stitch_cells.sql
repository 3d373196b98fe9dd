-- Names of the prediction cells used by stitch_grouped.sql: cell hash -> model name, version and
-- configured segment values, for the cells {cells} a result holds. /*CELL*/ is the same
-- expression as in stitch_grouped.sql. A cell has one name, so DISTINCT ... LIMIT (number of
-- cells) stops the scan as soon as every cell has been seen (usually within the first block)
-- instead of reading every prediction again.
SELECT DISTINCT cell, model_name AS cell_model_name, model_version AS cell_model_version, sv AS segment_values
FROM
(
    SELECT
        /*CELL*/ AS cell,
        model_name,
        model_version,
        arrayMap(x -> segments[x], {seg_keys:Array(String)}) AS sv
    FROM impact_predictions_typed
    WHERE ts >= fromUnixTimestamp64Nano({pstart_ns:Int64})
      AND ts < fromUnixTimestamp64Nano({end_ns:Int64})
      AND toString({pkey:Identifier}) != ''
      AND (empty({models:Array(String)}) OR has({models:Array(String)}, model_name))
)
WHERE has({cells:Array(UInt64)}, cell)
LIMIT {n_cells:UInt64}
