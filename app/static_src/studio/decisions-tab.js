// The Decisions tab's loader, in the editor's bundle: dmn-js is big (~1 MB), so its bundle
// (decisions.js + decisions.css, built from decisions.js) is fetched only when the tab first
// opens, keeping the editor's first load small. Until then the draft's .dmn files stay as text.

// The editor's own script URL (set while this bundle runs): the decisions bundle sits beside it.
const HERE = document.currentScript ? document.currentScript.src : '/static/studio/editor.js';

function asset(name) {
  return new URL(name, HERE).href;
}

let loading = null;

function loadBundle() {
  if (loading) return loading;
  loading = new Promise((resolve, reject) => {
    const styles = document.createElement('link');
    styles.rel = 'stylesheet';
    styles.href = asset('decisions.css');
    document.head.append(styles);
    const script = document.createElement('script');
    script.src = asset('decisions.js');
    script.onload = () => resolve(window.TicketflowDecisions);
    script.onerror = () => {
      loading = null;
      reject(new Error('could not load the decision table editor (decisions.js)'));
    };
    document.head.append(script);
  });
  return loading;
}

// {open, collect, fill}: `collect` writes the tables being edited back into state.files before a
// save; `fill` shows the files again after a load (discard, restore).
export function decisionsTab(root, state, onChange, say) {
  let tab = null;
  let problems = [];
  return {
    showProblems(list) {
      problems = list;
      if (tab) tab.showProblems(problems);
    },
    async open() {
      if (!tab) {
        try {
          const bundle = await loadBundle();
          tab = tab || bundle.mount(root, state, onChange);
          tab.showProblems(problems);
        } catch (error) {
          say(error.message, 'error');
          return;
        }
      }
      await tab.show();
    },
    async collect() {
      if (tab) await tab.collect();
    },
    fill() {
      if (tab) tab.fill();
    },
  };
}
