//! `import "x" as y;`: the embedded standard library first, then files relative to the
//! importing script (a module's own imports relative to the module's file).
//!
//! Policy: stdlib modules are compiled on first import and cached for the session, so
//! scripts that import nothing pay nothing at start-up. A module file must be a regular file
//! of at most a script's size, checked before it is opened.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use rhai::module_resolvers::FileModuleResolver;
use rhai::{Engine, EvalAltResult, Module, ModuleResolver, Position, Scope, Shared};

use super::fields::Writes;
use super::stdlib;

/// What each module's code assigns, by the source name its code runs under: the check of a
/// missing field reads it (fields.rs).
pub type WritesBySource = Rc<RefCell<HashMap<String, Writes>>>;

/// The paths of the admin's module files a session has imported: the source names their
/// code runs under.
pub type ImportedFiles = Rc<RefCell<std::collections::HashSet<String>>>;

/// The resolver every mcsh engine uses.
pub struct Resolver {
    stdlib: RefCell<HashMap<String, Shared<Module>>>,
    files: FileModuleResolver,
    /// Where a stdlib module's writes are noted as it is compiled, so its text is compiled
    /// once a run (not again when its code first reads a missing key).
    writes: WritesBySource,
    /// Where each module file's source name is noted as it is imported.
    imported: ImportedFiles,
    /// The admin's module files compiled this session, by path.
    file_modules: RefCell<HashMap<std::path::PathBuf, Shared<Module>>>,
}

impl Resolver {
    /// A resolver with an empty cache, noting each stdlib module's writes in `writes` and
    /// each module file's source name in `imported`.
    pub fn new(writes: WritesBySource, imported: ImportedFiles) -> Resolver {
        Resolver {
            stdlib: RefCell::default(),
            files: FileModuleResolver::new(),
            writes,
            imported,
            file_modules: RefCell::default(),
        }
    }
}

impl ModuleResolver for Resolver {
    fn resolve(
        &self,
        engine: &Engine,
        source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        if let Some(text) = stdlib::source(path) {
            if let Some(m) = self.stdlib.borrow().get(path) {
                return Ok(m.clone());
            }
            let in_module = |e: Box<EvalAltResult>| {
                Box::new(EvalAltResult::ErrorInModule(path.to_string(), e, pos))
            };
            let mut ast = engine.compile(text).map_err(|e| in_module(e.into()))?;
            ast.set_source(stdlib_source(path));
            self.writes
                .borrow_mut()
                .insert(stdlib_source(path), Writes::of(&ast));
            let module: Shared<Module> = Module::eval_ast_as_new(Scope::new(), &ast, engine)
                .map_err(in_module)?
                .into();
            self.stdlib
                .borrow_mut()
                .insert(path.to_string(), module.clone());
            return Ok(module);
        }
        let file = self
            .files
            .get_file_path(path, source.and_then(|s| std::path::Path::new(s).parent()));
        check_module_file(&file).map_err(|why| {
            super::errors::raise(
                "import",
                "invalid_input",
                &format!("{path}: {} {why}", file.display()),
                false,
                0,
                "usage",
            )
        })?;
        if let Some(m) = self.file_modules.borrow().get(&file) {
            return Ok(m.clone());
        }
        // Named by its file, as its code's errors are.
        let name = file.to_string_lossy().into_owned();
        let in_module =
            |e: Box<EvalAltResult>| Box::new(EvalAltResult::ErrorInModule(name.clone(), e, pos));
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Box::new(EvalAltResult::ErrorModuleNotFound(
                    path.to_string(),
                    pos,
                )));
            }
            Err(e) => {
                return Err(in_module(
                    format!("cannot read {}: {e}", file.display()).into(),
                ))
            }
        };
        // Its code runs under its file's path (Rhai's own file resolver names it by the import
        // string): so its own imports are found beside it, wherever mcsh was started, and its
        // errors name the file.
        let mut ast = engine.compile(&text).map_err(|e| in_module(e.into()))?;
        ast.set_source(name.clone());
        self.imported.borrow_mut().insert(name.clone());
        let module: Shared<Module> = Module::eval_ast_as_new(Scope::new(), &ast, engine)
            .map_err(in_module)?
            .into();
        self.file_modules.borrow_mut().insert(file, module.clone());
        Ok(module)
    }
}

/// A module file must be a regular file of a script's size: a FIFO would hang the import and
/// a device (`/dev/zero`, through a link too) would be read without end. A file that does not
/// exist is left to the resolver, which says so.
fn check_module_file(file: &std::path::Path) -> Result<(), String> {
    // mcsh's own files are no modules: importing the config would show what it holds.
    if let Some(what) = crate::own_files::owned_by_mcsh(file, &|k| std::env::var(k).ok()) {
        return Err(format!("is {what}, which scripts may not read"));
    }
    let Ok(meta) = std::fs::metadata(file) else {
        return Ok(());
    };
    if !meta.is_file() {
        return Err("is not a regular file (a device, FIFO or directory)".into());
    }
    let limit = crate::files::MAX_SCRIPT_BYTES;
    if meta.len() > limit {
        return Err(format!(
            "is larger than {} MiB, the most mcsh reads",
            limit >> 20
        ));
    }
    Ok(())
}

/// The source name a stdlib module's code runs under (in messages, and to know its text).
pub fn stdlib_source(name: &str) -> String {
    format!("stdlib/{name}.rhai")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stdlib_modules_writes_are_noted_as_it_is_compiled() {
        // The check of a missing field reads them; noted here, the module's text is compiled
        // once a run instead of again when its code first meets a missing key.
        let rt = tokio::runtime::Runtime::new().unwrap();
        let host = crate::script::host::Host::offline(&rt);
        let engine = crate::script::engine(&host, &crate::script::Limits::default());
        let source = stdlib_source("onboard");
        assert!(!host.writes.borrow().contains_key(&source));
        engine.run(r#"import "onboard" as onboard;"#).unwrap();
        assert!(host.writes.borrow().contains_key(&source));
        assert!(!host
            .writes
            .borrow()
            .contains_key(&stdlib_source("offboard")));
    }
}
