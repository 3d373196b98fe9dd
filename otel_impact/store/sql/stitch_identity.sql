-- Map outcome keys through the identity table (other identifier -> user.id); unmapped keys stay.
SELECT o.t AS t, if(idm.uid != '', idm.uid, o.k) AS k, o.v AS v
FROM ( /*OUTCOMES*/ ) AS o
LEFT JOIN
(
    SELECT toString(m.{other_col:Identifier}) AS oid, any(toString(m.{user_col:Identifier})) AS uid
    FROM ( /*IDENTITY_SQL*/ ) AS m
    GROUP BY oid
) AS idm ON idm.oid = o.k
