package io.dynoplane.plane.cli;

import java.io.PrintStream;
import java.util.List;

/** Prints rows under a header in aligned columns, as heroku's CLI does. */
final class Table {
    private Table() {}

    static void print(PrintStream out, List<String> header, List<List<String>> rows) {
        int[] widths = new int[header.size()];
        for (int i = 0; i < widths.length; i++) widths[i] = header.get(i).length();
        for (List<String> row : rows) for (int i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i], cell(row, i).length());
        line(out, header, widths);
        StringBuilder rule = new StringBuilder();
        for (int i = 0; i < widths.length; i++) rule.append(i == 0 ? "" : "  ").append("─".repeat(widths[i]));
        out.println(rule);
        for (List<String> row : rows) line(out, row, widths);
    }

    private static String cell(List<String> row, int i) {
        String value = i < row.size() ? row.get(i) : null;
        return value == null || value.equals("null") ? "" : value;
    }

    private static void line(PrintStream out, List<String> cells, int[] widths) {
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < widths.length; i++) {
            String value = cell(cells, i);
            line.append(i == 0 ? "" : "  ").append(i == widths.length - 1 ? value : value + " ".repeat(widths[i] - value.length()));
        }
        out.println(line);
    }
}
