// pgJDBC against a running server: what DBeaver, Metabase and Tableau do first.
// Usage: java -cp postgresql.jar Clients.java HOST PORT USER DBNAME

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Types;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

public class Clients {
    static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://" + args[0] + ":" + args[1] + "/" + args[3];
        try (Connection conn = DriverManager.getConnection(url, args[2], "")) {
            DatabaseMetaData md = conn.getMetaData();
            check(md.getDatabaseProductName().equals("PostgreSQL"), "product " + md.getDatabaseProductName());
            String schema = conn.getSchema();
            List<String> schemas = new ArrayList<>();
            try (ResultSet rs = md.getSchemas()) {
                while (rs.next()) schemas.add(rs.getString("TABLE_SCHEM"));
            }
            check(schemas.contains(schema), "schemas " + schemas + " lack " + schema);
            List<String> tables = new ArrayList<>();
            try (ResultSet rs = md.getTables(null, schema, "%", new String[] {"TABLE"})) {
                while (rs.next()) tables.add(rs.getString("TABLE_NAME"));
            }
            check(tables.contains("hits") && tables.contains("user_behaviors"), "tables " + tables);
            List<String> views = new ArrayList<>();
            try (ResultSet rs = md.getTables(null, schema, "%", new String[] {"VIEW"})) {
                while (rs.next()) views.add(rs.getString("TABLE_NAME"));
            }
            check(views.contains("hits_view"), "views " + views);
            Map<String, Integer> columns = new LinkedHashMap<>();
            Map<String, String> typeNames = new LinkedHashMap<>();
            try (ResultSet rs = md.getColumns(null, schema, "hits", "%")) {
                while (rs.next()) {
                    columns.put(rs.getString("COLUMN_NAME"), rs.getInt("DATA_TYPE"));
                    typeNames.put(rs.getString("COLUMN_NAME"), rs.getString("TYPE_NAME"));
                    check(rs.getInt("NULLABLE") == DatabaseMetaData.columnNoNulls, "nullable " + rs.getString("COLUMN_NAME"));
                }
            }
            check(new ArrayList<>(columns.keySet()).equals(List.of("d", "user_id", "url", "ts", "price", "ok")), "columns " + columns);
            check(columns.get("d") == Types.DATE && columns.get("user_id") == Types.BIGINT && columns.get("url") == Types.VARCHAR
                    && columns.get("ts") == Types.TIMESTAMP && columns.get("price") == Types.DOUBLE && columns.get("ok") == Types.BIT, "types " + columns);
            check(typeNames.get("user_id").equals("int8") && typeNames.get("url").equals("text"), "type names " + typeNames);
            try (ResultSet rs = md.getColumns(null, schema, "user_behaviors", "%")) {
                int n = 0;
                while (rs.next()) n++;
                check(n == 17, "user_behaviors has " + n + " columns");
            }
            try (PreparedStatement ps = conn.prepareStatement("SELECT url, count(*) AS n, sum(price) AS total FROM hits WHERE user_id = ? GROUP BY url ORDER BY url")) {
                ps.setLong(1, 42);
                try (ResultSet rs = ps.executeQuery()) {
                    check(rs.next(), "one row");
                    check(rs.getString(1).equals("/a") && rs.getLong(2) == 2 && rs.getDouble(3) == 12.5, "row " + rs.getString(1));
                    check(!rs.next(), "only one row");
                }
            }
        }
        System.out.println("pgjdbc: DatabaseMetaData getSchemas/getTables/getColumns and a PreparedStatement ok");
    }
}
