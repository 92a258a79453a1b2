//! Properties of the four parsers that meet untrusted input, checked on generated input in
//! every CI run: the response envelope decoder, the people-CSV checker, the REPL's
//! incomplete-input classifier and the sandbox's request parser. The same parsers are fuzz
//! targets in `fuzz/`.

use mcsh::api::envelope;
use mcsh::repl::input::{classify, Completeness};
use mcsh::sandbox::wire;
use mcsh::script::fn_people::{parse_people, PeopleError};
use proptest::prelude::*;
use serde_json::json;

fn columns() -> Vec<String> {
    vec!["email".into(), "name".into(), "groups".into()]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn the_envelope_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = envelope::decode(&bytes);
        let _ = envelope::error_summary(&bytes);
    }

    #[test]
    fn the_envelope_decoder_keeps_every_item_and_failure(
        items in proptest::collection::vec("[a-z]{1,8}", 0..20),
        failures in proptest::collection::vec(("[a-z_]{1,12}", any::<bool>()), 0..5),
        next in proptest::option::of("[A-Za-z0-9]{1,16}"),
    ) {
        let fail: Vec<_> = failures.iter().map(|(code, retryable)| json!({
            "key": { "emailAddress": format!("{code}@x.com") },
            "errors": [{ "code": code, "message": "m", "retryable": retryable }]
        })).collect();
        let mut pagination = json!({ "pageSize": items.len() });
        if let Some(n) = &next { pagination["next"] = json!(n); }
        let body = json!({ "meta": { "status": 200, "pagination": pagination },
                           "data": items.iter().map(|i| json!({ "v": i })).collect::<Vec<_>>(), "fail": fail });
        let resp = envelope::decode(body.to_string().as_bytes()).unwrap();
        prop_assert_eq!(resp.data.len(), items.len());
        prop_assert_eq!(resp.fail.len(), failures.len());
        prop_assert_eq!(resp.next, next);
        for (f, (code, retryable)) in resp.fail.iter().zip(&failures) {
            prop_assert_eq!(&f.code, code);
            prop_assert_eq!(f.retryable, *retryable);
        }
    }

    #[test]
    fn the_people_checker_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_people(&bytes, &columns());
    }

    #[test]
    fn the_people_checker_keeps_good_rows_and_names_the_line_of_a_bad_one(
        names in proptest::collection::btree_set("[a-z]{1,10}", 1..40),
        bad_at in any::<prop::sample::Index>(),
    ) {
        let names: Vec<String> = names.into_iter().collect();
        let mut csv = String::from("email,name,groups\n");
        for n in &names {
            csv.push_str(&format!("{n}@company.com,\"{n}, X\",A;B;A\n"));
        }
        let people = parse_people(csv.as_bytes(), &columns()).unwrap();
        prop_assert_eq!(people.len(), names.len());
        for (i, p) in people.iter().enumerate() {
            prop_assert_eq!(p.line, i as u64 + 2);
            prop_assert_eq!(p.groups.clone().unwrap(), vec!["A".to_string(), "B".to_string()]);
        }
        let bad = bad_at.index(names.len());
        let mut lines: Vec<String> = csv.lines().map(str::to_string).collect();
        lines[bad + 1] = "not-an-address,x,".into();
        let broken = lines.join("\n");
        match parse_people(broken.as_bytes(), &columns()) {
            Err(PeopleError::Bad(msg)) => prop_assert!(msg.contains(&format!("line {}:", bad + 2)), "{}", msg),
            other => prop_assert!(false, "expected a refusal, got {:?}", other),
        }
    }

    #[test]
    fn the_classifier_never_panics(text in "\\PC{0,200}") {
        let engine = rhai::Engine::new_raw();
        let _ = classify(&engine, &text);
    }

    #[test]
    fn an_open_bracket_continues_and_its_closing_finishes(body in "[a-z][a-z0-9_]{0,8}", open in 0usize..3) {
        let engine = rhai::Engine::new_raw();
        // A name that is a keyword (`tr` + `y` is `try`) is no variable at all.
        prop_assume!(engine.compile(format!("let {body}x = 1; let {body}y = 1;")).is_ok());
        // Rhai has no tuples: an open parenthesis is a call's argument list.
        let (o, c) = [("max(", ")"), ("[", "]"), ("{", "}")][open];
        let start = format!("let {body}x = {o}1, ");
        if o == "{" {
            let block = format!("if true {{ let {body}y = 1;");
            prop_assert_eq!(classify(&engine, &block), Completeness::Incomplete);
            prop_assert_eq!(classify(&engine, &format!("{block} }}")), Completeness::Complete);
        } else {
            prop_assert_eq!(classify(&engine, &start), Completeness::Incomplete);
            prop_assert_eq!(classify(&engine, &format!("{start}2{c};")), Completeness::Complete);
        }
    }

    #[test]
    fn the_request_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = wire::parse_request(&bytes);
    }

    #[test]
    fn the_request_parser_keeps_items_and_caps_pages(
        items in proptest::collection::vec("[a-z]{1,8}", 0..20),
        page_size in 1u64..100_000,
        token in proptest::option::of("[A-Za-z0-9]{1,20}"),
    ) {
        let mut meta = json!({ "pagination": { "pageSize": page_size } });
        if let Some(t) = &token { meta["pagination"]["pageToken"] = json!(t); }
        let body = json!({ "meta": meta, "data": items.iter().map(|i| json!({ "v": i })).collect::<Vec<_>>() });
        let req = wire::parse_request(body.to_string().as_bytes()).unwrap();
        prop_assert_eq!(req.data.len(), items.len());
        prop_assert_eq!(req.page_size as u64, page_size.min(500));
        prop_assert_eq!(req.page_token, token);
    }
}
