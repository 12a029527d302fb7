\l
\dt
\dv
\dn
\d user_behaviors
\d hits
\copy hits FROM 'hits.csv' WITH (FORMAT csv)
\copy (SELECT url, count(*) FROM hits WHERE user_id = 45 GROUP BY url) TO STDOUT WITH (FORMAT csv)
\x
SELECT url, count(*) AS n FROM hits WHERE user_id = 42 GROUP BY url;
\x
