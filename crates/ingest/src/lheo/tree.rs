//! A small element tree for one offer.
//!
//! The file is streamed, but each offer (`formation`, `offre-formation`,
//! `resume-offre`) is built as a tree before being checked: its required
//! elements can come in any order in old dialects and a missing one is only
//! known at the end, so a tree is the simplest correct shape. Memory is
//! bounded by the largest offer, not by the file.

/// One element of an offer, in the document's namespace.
#[derive(Debug, Clone, Default)]
pub(super) struct Node {
    /// Local name (`intitule-formation`).
    pub name: String,
    /// Line of the start tag.
    pub line: u64,
    /// Attributes by local name, values unescaped.
    pub attrs: Vec<(String, String)>,
    /// Child elements in document order.
    pub children: Vec<Node>,
    /// Character data directly inside, unescaped, untrimmed.
    pub text: String,
}

impl Node {
    /// First child with that name.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Children with that name.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Follows a path of child names.
    pub fn path(&self, names: &[&str]) -> Option<&Node> {
        names.iter().try_fold(self, |n, name| n.child(name))
    }

    /// Every descendant with that name, depth first, in document order.
    /// Used for codes that old dialects wrap (`codes-ROME/code-ROME`).
    pub fn descendants<'a>(&'a self, name: &str, out: &mut Vec<&'a Node>) {
        for c in &self.children {
            if c.name == name {
                out.push(c);
            }
            c.descendants(name, out);
        }
    }

    /// First descendant with that name.
    pub fn first_descendant(&self, name: &str) -> Option<&Node> {
        self.children.iter().find_map(|c| {
            if c.name == name {
                Some(c)
            } else {
                c.first_descendant(name)
            }
        })
    }

    /// Value of an attribute.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The element's text, trimmed; `None` when empty or `-`, the
    /// placeholder LHÉO producers put in required fields they do not fill.
    pub fn value(&self) -> Option<String> {
        let t = self.text.trim();
        (!t.is_empty() && t != "-").then(|| t.to_owned())
    }

    /// Value of the first child with that name.
    pub fn child_value(&self, name: &str) -> Option<String> {
        self.child(name).and_then(Node::value)
    }
}
