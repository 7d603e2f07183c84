package io.dynoplane.plane.api;

/** One process type of an app's formation, as Heroku's Formation resource has it. */
public record FormationEntry(String type, int quantity, String command) {
}
