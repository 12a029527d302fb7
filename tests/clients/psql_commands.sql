\l
\dt
\dv
\dn
\d user_behaviors
\d hits
\x
SELECT url, count(*) AS n FROM hits WHERE user_id = 42 GROUP BY url;
\x
