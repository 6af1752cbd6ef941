//! Building the graph's first-use indexes up front, side by side.

use crate::build::MeshGraph;

impl MeshGraph {
    /// Builds, several at a time, the indexes that queries otherwise build on first use.
    /// An evaluation of every resource needs nearly all of them, and an index built on
    /// first use holds up every other thread that asks for it meanwhile: on the
    /// 2,000-namespace gen-mesh corpus they are a tenth of the rules stage's CPU, which
    /// was spent one index at a time. The answers are the same either way.
    pub fn build_indexes(&self) {
        rayon::scope(|s| {
            // Largest first, so the others share the remaining threads.
            s.spawn(|_| {
                self.istio();
            });
            s.spawn(|_| {
                self.data_planes();
            });
            s.spawn(|_| {
                self.routes_index();
            });
            s.spawn(|_| {
                self.scale();
            });
            s.spawn(|_| {
                self.services_by_workload();
            });
            s.spawn(|_| {
                self.dr_by_host();
            });
            s.spawn(|_| {
                self.tls_answers();
            });
            s.spawn(|_| {
                self.proxies_by_namespace();
            });
        });
    }
}
