-- Spans of pipeline tools (any span carrying pipeline.name) ending in [from, end): the run is
-- placed at its end (when the data landed). Status: the pipeline.status attribute, else
-- "failed" for an error span, else "success".
SELECT
    toInt64(toUnixTimestamp64Nano(Timestamp)) + toInt64(Duration) AS t,
    'span' AS kind,
    attributes[{k_pipeline:String}] AS pipeline,
    attributes[{k_dataset:String}] AS dataset,
    lower(multiIf(
        attributes[{k_status:String}] != '', attributes[{k_status:String}],
        StatusCode IN ('Error', 'STATUS_CODE_ERROR'), 'failed',
        'success'
    )) AS status,
    attributes[{k_change:String}] AS change,
    attributes[{k_version:String}] AS version
FROM impact_spans
WHERE mapContains(attributes, {k_pipeline:String})  -- can use the exporter's attribute-key skip index
  AND attributes[{k_pipeline:String}] != ''
  AND Timestamp >= fromUnixTimestamp64Nano({from_ns:Int64}) - toIntervalDay(1)
  AND Timestamp < fromUnixTimestamp64Nano({end_ns:Int64})
  AND toInt64(toUnixTimestamp64Nano(Timestamp)) + toInt64(Duration) >= {from_ns:Int64}
  AND toInt64(toUnixTimestamp64Nano(Timestamp)) + toInt64(Duration) < {end_ns:Int64}
ORDER BY t, pipeline, dataset, status, change, version
