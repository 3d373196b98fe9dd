-- Tracking-plan attribute checks of every planned event (or every planned model's prediction
-- spans) in one pass, grouped by name: per declared attribute (arrays index-aligned with that
-- name's keys, picked from the array-of-arrays parameters by the name's position in names) the
-- rows missing it while required, the rows whose string value does not parse as the declared
-- type, enum violations, the distinct values and the 20 earliest example rows of each violation
-- (sorted, so the same rows are picked whatever the read order). The
-- FROM subquery is one of the plan_source_*.sql files (name, ts, trace_id, span_id,
-- service_name, attributes).
WITH
    indexOf({names:Array(String)}, name) AS pos,
    arrayElement({keys:Array(Array(String))}, pos) AS keys,
    arrayElement({types:Array(Array(String))}, pos) AS types,
    arrayElement({required:Array(Array(UInt8))}, pos) AS req,
    arrayElement({allowed:Array(Array(Array(String)))}, pos) AS allowed,
    arrayMap(k -> mapContains(attributes, k), keys) AS present,
    arrayMap(k -> attributes[k], keys) AS vals,
    arrayMap(
        (v, t) -> multiIf(
            t = 'int', match(v, {int_re:String}),
            t = 'double', match(lower(v), {double_re:String}),
            t = 'bool', v IN ('true', 'false'),
            1
        ),
        vals, types
    ) AS type_ok,
    arrayMap((p, r) -> p = 0 AND r = 1, present, req) AS is_missing,
    arrayMap((p, ok) -> p = 1 AND ok = 0, present, type_ok) AS is_wrong,
    arrayMap((p, ok, t, v, a) -> p = 1 AND ok = 1 AND t = 'enum' AND NOT has(a, v), present, type_ok, types, vals, allowed) AS is_enum,
    arrayMap(v -> tuple(ts, trace_id, span_id, service_name, v), vals) AS row_of
SELECT
    name,
    count() AS n,
    sumForEach(arrayMap(x -> toUInt64(x), is_missing)) AS missing,
    sumForEach(arrayMap(x -> toUInt64(x), is_wrong)) AS wrong,
    sumForEach(arrayMap(x -> toUInt64(x), is_enum)) AS enum_bad,
    uniqIfForEach(vals, present) AS distinct_values,
    groupUniqArrayIfForEach(5)(vals, present) AS some_values,
    groupArraySortedIfForEach(20)(row_of, is_missing) AS ex_missing,
    groupArraySortedIfForEach(20)(row_of, is_wrong) AS ex_wrong,
    groupArraySortedIfForEach(20)(row_of, is_enum) AS ex_enum
FROM ({source})
GROUP BY name
