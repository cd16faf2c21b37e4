import { useMutation, useQuery } from "@urql/preact";
import { useState } from "preact/hooks";
import { ErrorMessage, StatusBadge } from "../components";
import { when } from "../format";
import { RunWorkflowMutation, WorkflowQuery, WorkflowsQuery } from "../ops";
import { Link, navigate, withQuery } from "../router";
import { JobTable } from "./Jobs";

interface GraphNode {
  id: string;
  type: string;
  data?: { name?: string; value?: unknown };
}

export function WorkflowList() {
  const [result] = useQuery({ query: WorkflowsQuery, variables: { first: 100 } });
  const workflows = result.data?.workflows;
  return (
    <main id="main" tabIndex={-1} class="page">
      <div class="page-head">
        <h1>Workflows</h1>
        <p class="count">{workflows ? `${workflows.totalCount} stored` : ""}</p>
      </div>
      {result.error && <ErrorMessage error={result.error} />}
      {workflows && workflows.nodes.length === 0 && (
        <p class="empty">No stored workflows. Create one with the <code>createWorkflow</code> mutation (see the docs).</p>
      )}
      {workflows && workflows.nodes.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Updated</th>
                <th scope="col">Runs</th>
                <th scope="col">Last run</th>
              </tr>
            </thead>
            <tbody>
              {workflows.nodes.map((w) => (
                <tr key={w.id}>
                  <td>
                    <Link href={`/workflows/${encodeURIComponent(w.id)}`}>{w.name}</Link>
                  </td>
                  <td>{when(w.updatedAt)}</td>
                  <td>{w.jobs.totalCount}</td>
                  <td>
                    {w.jobs.nodes[0] ? (
                      <Link href={`/jobs/${encodeURIComponent(w.jobs.nodes[0].id)}`}>
                        <StatusBadge status={w.jobs.nodes[0].status} /> {when(w.jobs.nodes[0].createdAt)}
                      </Link>
                    ) : (
                      <span class="muted">never</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </main>
  );
}

function RunForm({ workflowId, inputs }: { workflowId: string; inputs: GraphNode[] }) {
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(inputs.map((n) => [n.data?.name || n.id, n.data?.value == null ? "" : typeof n.data.value === "object" ? JSON.stringify(n.data.value) : String(n.data.value)])),
  );
  const [run, start] = useMutation(RunWorkflowMutation);
  return (
    <form
      class="run-form"
      onSubmit={async (e) => {
        e.preventDefault();
        const params: Record<string, unknown> = {};
        for (const node of inputs) {
          const key = node.data?.name || node.id;
          const raw = values[key] ?? "";
          if (raw === "") continue;
          if (node.type === "input.Number") params[key] = Number(raw);
          else if (node.type === "input.Image") params[key] = raw.trim();
          else params[key] = raw;
        }
        const result = await start({ input: { workflowId, params } }, { additionalTypenames: ["Job"] });
        if (result.data) navigate(`/jobs/${encodeURIComponent(result.data.runWorkflow.id)}`);
      }}
    >
      <h2>Run</h2>
      {inputs.length === 0 && <p class="muted">This workflow takes no inputs.</p>}
      {inputs.map((node) => {
        const key = node.data?.name || node.id;
        return (
          <div class="field" key={node.id}>
            <label for={`param-${node.id}`}>
              {key} <span class="muted">({node.type.replace("input.", "").toLowerCase()}{node.type === "input.Image" ? ": asset id" : ""})</span>
            </label>
            <input
              id={`param-${node.id}`}
              type={node.type === "input.Number" ? "number" : "text"}
              step="any"
              value={values[key]}
              onInput={(e) => setValues({ ...values, [key]: e.currentTarget.value })}
            />
          </div>
        );
      })}
      {run.error && <ErrorMessage error={run.error} />}
      <button type="submit" class="primary" disabled={run.fetching}>
        {run.fetching ? "Starting…" : "Run workflow"}
      </button>
    </form>
  );
}

export function WorkflowView({ id }: { id: string }) {
  const [result] = useQuery({ query: WorkflowQuery, variables: { id } });
  if (result.error) return <main id="main" tabIndex={-1} class="page"><ErrorMessage error={result.error} /></main>;
  if (!result.data) return <main id="main" tabIndex={-1} class="page"><p class="loading">Loading…</p></main>;
  const workflow = result.data.workflow;
  if (!workflow) return <main id="main" tabIndex={-1} class="page"><h1>Workflow not found</h1></main>;
  const nodes = ((workflow.graph as { nodes?: GraphNode[] }).nodes ?? []).filter((n) => n && typeof n.type === "string");
  const inputs = nodes.filter((n) => n.type.startsWith("input."));
  return (
    <main id="main" tabIndex={-1} class="page">
      <nav class="crumbs" aria-label="Breadcrumb">
        <Link href="/workflows">Workflows</Link> / <span>{workflow.name}</span>
      </nav>
      <div class="page-head">
        <h1>{workflow.name}</h1>
        <Link class="button" href={withQuery("/", { workflow: workflow.id })}>
          Its assets
        </Link>
      </div>
      <div class="two-col">
        <RunForm key={workflow.id} workflowId={workflow.id} inputs={inputs} />
        <section>
          <h2>Nodes ({nodes.length})</h2>
          <ul class="node-list">
            {nodes.map((n) => (
              <li key={n.id}>
                <Link href={withQuery("/", { workflow: workflow.id, node: n.id })}>{n.data?.name || n.id}</Link> <code>{n.type}</code>
              </li>
            ))}
          </ul>
        </section>
      </div>
      <section>
        <h2>Recent jobs ({workflow.jobs.totalCount})</h2>
        {workflow.jobs.nodes.length ? <JobTable jobs={workflow.jobs.nodes} /> : <p class="muted">Not run yet.</p>}
      </section>
    </main>
  );
}
