// A page that shows rcakit's widgets with a standard, non-JupyterLab widget manager.
//
// What it is: the pattern of ipywidgets' "web3" example, which VS Code's notebook renderer also follows: a
// WidgetManager subclassing @jupyter-widgets/html-manager's HTMLManager, comms over a live kernel connection
// from @jupyterlab/services, third-party widget modules resolved by module name through the manager's loader
// (anywidget's AMD module, the same file its Python package installs as a classic nbextension), and plotly's
// mime type drawn by a renderer registered beside the standard ones (VS Code draws it with its built-in
// notebook renderer). No JupyterLab application, no Lumino shell, no requirejs, nothing from a CDN.
//
// The page exposes `window.harness` to the test (tests/frontends/test_standard_manager_browser.py):
//   await harness.connect(token)          start a python3 kernel on this server and listen for widget comms
//   await harness.execute(code, area)     run code; widget views it displays are attached to <div id=area>
//   harness.errors, harness.log           console-worthy failures and the kernel's stream output

import * as base from "@jupyter-widgets/base";
import { HTMLManager } from "@jupyter-widgets/html-manager";
import { KernelManager, ServerConnection } from "@jupyterlab/services";
import { Widget } from "@lumino/widgets";
import Plotly from "plotly.js-dist-min";
import { satisfies } from "semver";

// anywidget's front end exactly as published (an AMD module: define(["@jupyter-widgets/base"], factory)),
// read as text and evaluated the way a requirejs-based loader would, with this page's @jupyter-widgets/base.
import anywidgetSource from "./node_modules/anywidget/dist/index.js" with { type: "text" };
import anywidgetPackage from "./node_modules/anywidget/package.json" with { type: "json" };

import "@jupyter-widgets/controls/css/widgets.css";

const WIDGET_VIEW = "application/vnd.jupyter.widget-view+json";
const PLOTLY = "application/vnd.plotly.v1+json";

function evaluateAmd(source, dependencies) {
  let exported;
  const define = (names, factory) => {
    exported = factory(...names.map((name) => {
      if (!(name in dependencies)) throw new Error(`AMD module asks for ${name}, which this page does not provide`);
      return dependencies[name];
    }));
  };
  define.amd = true;
  new Function("define", source)(define);
  return exported;
}

let anywidgetModule = null;
const MODULES = {
  anywidget: {
    version: anywidgetPackage.version,
    load: () => (anywidgetModule ??= evaluateAmd(anywidgetSource, { "@jupyter-widgets/base": base })),
  },
};

// The loader a third-party module goes through: by name, checked against the version the kernel asked for.
async function loader(moduleName, moduleVersion) {
  const known = MODULES[moduleName];
  if (!known) throw new Error(`no local module ${moduleName}@${moduleVersion} (this page fetches nothing)`);
  if (moduleVersion && !satisfies(known.version, moduleVersion.replace(/\.\*$/, ".x"))) {
    throw new Error(`the kernel asks for ${moduleName}@${moduleVersion}; this page bundles ${known.version}`);
  }
  harness.loaded.push(`${moduleName}@${known.version} for ${moduleVersion}`);
  return known.load();
}

// plotly's mime type (plain figures inside Output widgets): drawn with plotly.js from npm, no CDN.
class PlotlyRenderer extends Widget {
  constructor() {
    super();
    this.addClass("harness-plotly");
  }
  async renderModel(model) {
    const spec = model.data[PLOTLY];
    const div = document.createElement("div");
    this.node.textContent = "";
    this.node.appendChild(div);
    await Plotly.newPlot(div, spec.data || [], spec.layout || {}, spec.config || {});
  }
}

class WidgetManager extends HTMLManager {
  constructor(kernel) {
    super({ loader });
    this.kernel = kernel;
    this.renderMime.addFactory({ safe: true, mimeTypes: [PLOTLY], createRenderer: () => new PlotlyRenderer() }, 0);
    kernel.registerCommTarget(this.comm_target_name, async (comm, msg) => {
      try {
        await this.handle_comm_open(new base.shims.services.Comm(comm), msg);
      } catch (error) {
        harness.fail(`comm_open of ${msg.content.data?.state?._model_name}: ${error}`);
      }
    });
  }

  // Models the front end creates (not used by rcakit, kept for the protocol): a real comm on the kernel.
  async _create_comm(targetName, modelId, data, metadata, buffers) {
    const comm = this.kernel.createComm(targetName, modelId);
    if (data || metadata) comm.open(data, metadata, buffers);
    return new base.shims.services.Comm(comm);
  }

  async _get_comm_info() {
    const reply = await this.kernel.requestCommInfo({ target_name: this.comm_target_name });
    return reply.content.status === "ok" ? reply.content.comms : {};
  }
}

const harness = {
  kernel: null,
  manager: null,
  errors: [],
  log: [],
  loaded: [],
  views: 0,
  fail(text) {
    harness.errors.push(text);
    console.error(`[harness] ${text}`);
  },

  async connect(token) {
    const serverSettings = ServerConnection.makeSettings({ baseUrl: `${location.origin}/`, token, appendToken: true });
    const kernels = new KernelManager({ serverSettings });
    harness.kernel = await kernels.startNew({ name: "python3" });
    harness.manager = new WidgetManager(harness.kernel);
    const info = await harness.kernel.info;
    return `${info.implementation} ${info.language_info.version}`;
  },

  // Runs code in the kernel; widget views it displays are drawn into a new <div id=area>. Resolves with the
  // stream text when the kernel replies and every view has been attached; rejects with the traceback.
  execute(code, area) {
    let target = document.getElementById(area);
    if (!target) {
      target = document.createElement("div");
      target.id = area;
      target.className = "harness-area";
      document.getElementById("areas").appendChild(target);
    }
    const pending = [];
    const text = [];
    let error = null;
    const future = harness.kernel.requestExecute({ code, stop_on_error: true, store_history: false });
    future.onIOPub = (msg) => {
      const type = msg.header.msg_type;
      if (type === "stream") {
        text.push(msg.content.text);
        harness.log.push(msg.content.text);
      } else if (type === "error") {
        error = `${msg.content.ename}: ${msg.content.evalue}\n${msg.content.traceback.join("\n")}`;
      } else if ((type === "display_data" || type === "execute_result") && msg.content.data[WIDGET_VIEW]) {
        const id = msg.content.data[WIDGET_VIEW].model_id;
        pending.push((async () => {
          const model = await harness.manager.get_model(id);
          const view = await harness.manager.create_view(model);
          await harness.manager.display_view(view, target);
          harness.views += 1;
        })().catch((e) => harness.fail(`displaying widget ${id}: ${e}`)));
      } else if (type === "display_data" || type === "execute_result") {
        text.push(msg.content.data["text/plain"] || "");
      }
    };
    return future.done.then(async () => {
      await Promise.all(pending);
      // eslint-disable-next-line no-throw-literal
      if (error) throw new Error(error.replace(/\x1b\[[0-9;]*m/g, ""));
      return text.join("");
    });
  },
};

window.addEventListener("error", (e) => harness.fail(`uncaught: ${e.message}`));
window.addEventListener("unhandledrejection", (e) => harness.fail(`unhandled rejection: ${e.reason}`));
window.harness = harness;
