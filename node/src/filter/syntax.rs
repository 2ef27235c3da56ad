//! Reads the clause text into a `sqlparser` expression, with positions for syntax errors.

use std::collections::HashSet;

use sqlparser::ast::Expr;
use sqlparser::dialect::GenericDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer, Word};

use super::{FilterError, MAX_DEPTH};
use crate::catalog::Field;

/// The words the grammar uses as keywords; every other keyword that is also a field name
/// (`Interval`, `Type`, ...) is read as that field.
const GRAMMAR_KEYWORDS: &[Keyword] = &[
    Keyword::AND,
    Keyword::OR,
    Keyword::NOT,
    Keyword::IN,
    Keyword::LIKE,
    Keyword::ILIKE,
    Keyword::IS,
    Keyword::NULL,
    Keyword::TRUE,
    Keyword::FALSE,
    Keyword::BETWEEN,
    Keyword::ESCAPE,
];

/// Parser recursion allowed: a clause within [`MAX_DEPTH`] (checked on the tokens first) needs
/// a few levels more than its depth (the top expression, IN lists, BETWEEN bounds).
const PARSER_RECURSION_LIMIT: usize = MAX_DEPTH + 16;

pub fn parse_expr(clause: &str, fields: &[Field]) -> Result<Expr, FilterError> {
    let dialect = GenericDialect {};
    let mut tokens = Tokenizer::new(&dialect, clause)
        .with_unescape(true)
        .tokenize_with_location()
        .map_err(|e| syntax_error(clause, &e.message, e.location))?;

    let field_words: HashSet<String> = fields
        .iter()
        .flat_map(|f| f.name.split('.'))
        .map(str::to_ascii_lowercase)
        .collect();
    for t in &mut tokens {
        if let Token::Word(w) = &mut t.token {
            if names_a_field(w, &[], &field_words) {
                w.keyword = Keyword::NoKeyword;
            }
        }
    }

    check_depth(clause, &tokens)?;

    let mut parser = Parser::new(&dialect)
        .with_recursion_limit(PARSER_RECURSION_LIMIT)
        .with_tokens_with_locations(tokens);
    let expr = parser.parse_expr().map_err(|e| parser_error(clause, e))?;
    let next = parser.peek_token();
    if next.token != Token::EOF {
        return Err(syntax_error(
            clause,
            &format!(
                "unexpected `{}`; expected AND, OR or the end of the clause",
                next.token
            ),
            next.span.start,
        ));
    }
    Ok(expr)
}

/// Whether an unquoted keyword (`Type`, `Interval`, ...) is to be read as the field of that name:
/// the grammar's own words, and the caller's `also_reserved`, keep their meaning.
pub fn names_a_field(
    word: &Word,
    also_reserved: &[Keyword],
    field_words: &HashSet<String>,
) -> bool {
    word.quote_style.is_none()
        && word.keyword != Keyword::NoKeyword
        && !GRAMMAR_KEYWORDS.contains(&word.keyword)
        && !also_reserved.contains(&word.keyword)
        && field_words.contains(&word.value.to_ascii_lowercase())
}

/// True for a word the grammar reserves (AND, OR, NOT, ...), whatever its case.
pub fn is_grammar_keyword(word: &str) -> bool {
    GRAMMAR_KEYWORDS
        .iter()
        .any(|k| format!("{k:?}").eq_ignore_ascii_case(word))
}

pub fn depth_error() -> FilterError {
    FilterError::new(format!(
        "conditions nests deeper than the limit of {MAX_DEPTH} levels (parentheses and NOT)"
    ))
}

/// Measures nesting on the tokens, before the parser recurses: each open parenthesis and each
/// unary NOT is one level; a NOT's level ends at the next AND or OR of its own parentheses
/// (NOT binds tighter than AND and OR).
fn check_depth(clause: &str, tokens: &[TokenWithSpan]) -> Result<(), FilterError> {
    // Per open parenthesis: the depth it starts at and the NOTs in force inside it.
    let mut frames: Vec<(usize, usize)> = vec![(0, 0)];
    let mut unary_position = true;
    for t in tokens {
        let keyword = match &t.token {
            Token::Word(w) if w.quote_style.is_none() => w.keyword,
            _ => Keyword::NoKeyword,
        };
        let Some(&(base, nots)) = frames.last() else {
            break;
        };
        let mut deeper = None;
        match &t.token {
            Token::Whitespace(_) => continue,
            // Only a parenthesis that groups a condition nests; IN lists and calls do not.
            Token::LParen => deeper = Some(base + nots + usize::from(unary_position)),
            Token::RParen if frames.len() > 1 => {
                frames.pop();
            }
            _ if keyword == Keyword::NOT && unary_position => {
                if let Some(frame) = frames.last_mut() {
                    frame.1 += 1;
                }
                if base + nots + 1 > MAX_DEPTH {
                    return Err(located_depth_error(clause, t.span.start));
                }
            }
            _ if keyword == Keyword::AND || keyword == Keyword::OR => {
                if let Some(frame) = frames.last_mut() {
                    frame.1 = 0;
                }
            }
            _ => {}
        }
        if let Some(depth) = deeper {
            if depth > MAX_DEPTH {
                return Err(located_depth_error(clause, t.span.start));
            }
            frames.push((depth, 0));
        }
        unary_position = matches!(t.token, Token::LParen)
            || matches!(keyword, Keyword::AND | Keyword::OR | Keyword::NOT);
    }
    Ok(())
}

fn located_depth_error(clause: &str, at: Location) -> FilterError {
    let mut e = depth_error();
    e.message = format!("{} {}", e.message, describe(clause, at));
    e.position = position(clause, at);
    e
}

fn parser_error(clause: &str, e: ParserError) -> FilterError {
    match e {
        ParserError::RecursionLimitExceeded => depth_error(),
        ParserError::TokenizerError(msg) | ParserError::ParserError(msg) => {
            // sqlparser appends the location as " at Line: L, Column: C".
            let located = msg.rsplit_once(" at Line: ").and_then(|(text, loc)| {
                let (line, column) = loc.split_once(", Column: ")?;
                Some((text.to_string(), line.parse().ok()?, column.parse().ok()?))
            });
            match located {
                Some((text, line, column)) => {
                    syntax_error(clause, &text, Location::new(line, column))
                }
                // The end of input carries no location: point just past the last character.
                None if msg.ends_with("EOF") => syntax_error(clause, &msg, end_of(clause)),
                None => FilterError::new(format!("syntax error: {msg}")),
            }
        }
    }
}

fn end_of(clause: &str) -> Location {
    let line = clause.split('\n').count();
    let column = clause.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Location::new(line as u64, column as u64)
}

/// A syntax error that names where it happened.
pub fn syntax_error(clause: &str, what: &str, at: Location) -> FilterError {
    let mut e = FilterError::new(format!("syntax error {}: {what}", describe(clause, at)));
    e.position = position(clause, at);
    e
}

/// "at position 7", or "at line 2, column 3 (position 20)" for a clause of several lines.
pub fn describe(clause: &str, at: Location) -> String {
    match position(clause, at) {
        Some(pos) if at.line > 1 => {
            format!("at line {}, column {} (position {pos})", at.line, at.column)
        }
        Some(pos) => format!("at position {pos}"),
        None => "at the end of the clause".to_string(),
    }
}

/// 1-based character position of a line/column location in the clause.
pub fn position(clause: &str, at: Location) -> Option<usize> {
    if at.line == 0 || at.column == 0 {
        return None;
    }
    let before: usize = clause
        .split('\n')
        .take(usize::try_from(at.line - 1).ok()?)
        .map(|l| l.chars().count() + 1)
        .sum();
    Some(before + usize::try_from(at.column).ok()?)
}
