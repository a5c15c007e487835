package io.drover.rules;

/** A rule that cannot be accepted: {@code position} is the character offset in the field named by {@code field}. */
public final class RuleSyntaxException extends RuntimeException {

    private final int position;
    private final String field;

    public RuleSyntaxException(int position, String message) {
        this(null, position, message);
    }

    public RuleSyntaxException(String field, int position, String message) {
        super(message, null, false, false);
        this.position = position;
        this.field = field;
    }

    public int position() {
        return position;
    }

    /** The rule field the error is in ({@code condition}, {@code clearCondition}, {@code for}…), or null. */
    public String field() {
        return field;
    }

    public RuleSyntaxException in(String field) {
        return new RuleSyntaxException(field, position, getMessage());
    }
}
