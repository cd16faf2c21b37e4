import { useMutation, useQuery, useSubscription } from "@urql/preact";
import { useEffect, useState } from "preact/hooks";
import { AssetCard, DownloadAll, ErrorMessage, StatusBadge, gridKeys, useWorkflowNames } from "../components";
import { when } from "../format";
import type { CardFieldsFragment, JobFieldsFragment, JobStatus } from "../gql/graphql";
import { AssetCreatedSubscription, CancelJobMutation, JobQuery, JobsQuery, JobUpdatedSubscription } from "../ops";
import { Link, navigate, usePlace, withQuery } from "../router";

const ACTIVE: JobStatus[] = ["QUEUED", "RUNNING"];
const STATUSES: JobStatus[] = ["QUEUED", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"];

/** Follows one unfinished job; the subscription ends by itself after a final status. */
function useLiveJob(job: JobFieldsFragment | null | undefined): JobFieldsFragment | null | undefined {
  const [{ data }] = useSubscription({
    query: JobUpdatedSubscription,
    variables: { id: job?.id ?? "" },
    pause: !job || !ACTIVE.includes(job.status),
  });
  return data?.jobUpdated && data.jobUpdated.id === job?.id ? { ...job, ...data.jobUpdated } : job;
}

function JobRow({ job: initial }: { job: JobFieldsFragment }) {
  const job = useLiveJob(initial)!;
  const names = useWorkflowNames();
  return (
    <tr>
      <td>
        <Link href={`/jobs/${encodeURIComponent(job.id)}`}>{job.id}</Link>
      </td>
      <td>
        <StatusBadge status={job.status} />
      </td>
      <td>{job.workflowId ? <Link href={`/workflows/${encodeURIComponent(job.workflowId)}`}>{names.get(job.workflowId) ?? job.workflowId}</Link> : <span class="muted">inline graph</span>}</td>
      <td>{when(job.createdAt)}</td>
      <td>{when(job.finishedAt)}</td>
    </tr>
  );
}

function JobTableFrame({ children }: { children: preact.ComponentChildren }) {
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">Job</th>
            <th scope="col">Status</th>
            <th scope="col">Workflow</th>
            <th scope="col">Created</th>
            <th scope="col">Finished</th>
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

export function JobTable({ jobs }: { jobs: JobFieldsFragment[] }) {
  return (
    <JobTableFrame>
      {jobs.map((job) => (
        <JobRow key={job.id} job={job} />
      ))}
    </JobTableFrame>
  );
}

const JOB_PAGE = 50;
type PageInfo = { endCursor: string | null; hasNextPage: boolean; totalCount: number };

function JobPage({ status, after, onInfo }: { status: JobStatus | null; after: string | null; onInfo: (info: PageInfo) => void }) {
  const [result, refetch] = useQuery({ query: JobsQuery, variables: { status, first: JOB_PAGE, after } });
  // New jobs have no subscription of their own: the first page looks again now and then.
  useEffect(() => {
    if (after !== null) return;
    const timer = setInterval(() => refetch({ requestPolicy: "network-only" }), 5000);
    return () => clearInterval(timer);
  }, [refetch, after]);
  const jobs = result.data?.jobs;
  useEffect(() => {
    if (jobs) onInfo({ endCursor: jobs.pageInfo.endCursor ?? null, hasNextPage: jobs.pageInfo.hasNextPage, totalCount: jobs.totalCount });
  }, [jobs]);
  if (result.error)
    return (
      <tr>
        <td colSpan={5}>
          <ErrorMessage error={result.error} />
        </td>
      </tr>
    );
  return <>{jobs?.nodes.map((job) => <JobRow key={job.id} job={job} />)}</>;
}

export function JobList() {
  const { query } = usePlace();
  const status = (query.get("status") || null) as JobStatus | null;
  const [pages, setPages] = useState<{ status: JobStatus | null; cursors: (string | null)[] }>({ status, cursors: [null] });
  const [info, setInfo] = useState<(PageInfo & { status: JobStatus | null }) | null>(null);
  const cursors = pages.status === status ? pages.cursors : [null];
  const current = info?.status === status ? info : null;
  return (
    <main id="main" tabIndex={-1} class="page">
      <div class="page-head">
        <h1>Jobs</h1>
        <p class="count">{current ? `${current.totalCount} ${current.totalCount === 1 ? "job" : "jobs"}` : ""}</p>
      </div>
      <form class="filters" aria-label="Filter jobs" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="field-status">Status</label>
          <select id="field-status" value={status ?? ""} onChange={(e) => navigate(withQuery("/jobs", { status: e.currentTarget.value }), { replace: true })}>
            <option value="">Any status</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.toLowerCase()}
              </option>
            ))}
          </select>
        </div>
      </form>
      {current?.totalCount === 0 ? (
        <p class="empty">
          No jobs{status ? ` ${status.toLowerCase()}` : " yet"}. Run one from <Link href="/workflows">Workflows</Link>.
        </p>
      ) : (
        <JobTableFrame>
          {cursors.map((after, i) => (
            <JobPage
              key={`${status}:${after}`}
              status={status}
              after={after}
              onInfo={(p) => {
                if (i === cursors.length - 1) setInfo({ ...p, status });
                else setInfo((old) => (old?.status === status ? { ...old, totalCount: p.totalCount } : old));
              }}
            />
          ))}
        </JobTableFrame>
      )}
      {current?.hasNextPage && (
        <button type="button" class="more" onClick={() => setPages({ status, cursors: [...cursors, current.endCursor] })}>
          Show more jobs
        </button>
      )}
    </main>
  );
}

function OutputValue({ value }: { value: unknown }) {
  if (value && typeof value === "object" && "id" in value && "url" in value && "contentType" in value) {
    const ref = value as { id: string; contentType: string };
    return (
      <Link href={`/asset/${encodeURIComponent(ref.id)}`}>
        {ref.contentType} asset {ref.id}
      </Link>
    );
  }
  if (Array.isArray(value))
    return (
      <ul>
        {value.map((v, i) => (
          <li key={i}>
            <OutputValue value={v} />
          </li>
        ))}
      </ul>
    );
  return <code>{JSON.stringify(value)}</code>;
}

export function JobView({ id }: { id: string }) {
  const [result, refetch] = useQuery({ query: JobQuery, variables: { id } });
  const [cancelled, cancel] = useMutation(CancelJobMutation);
  const [arrived, setArrived] = useState<CardFieldsFragment[]>([]);
  const loaded = result.data?.job;
  const job = useLiveJob(loaded);
  const names = useWorkflowNames();
  const active = !!job && ACTIVE.includes(job.status);
  useSubscription({ query: AssetCreatedSubscription, variables: { jobId: id }, pause: !active }, (_prev, data) => {
    setArrived((list) => (list.some((a) => a.id === data.assetCreated.id) ? list : [...list, data.assetCreated]));
    return data;
  });
  // Once the job is over, its final outputs and assets are worth one fresh look.
  useEffect(() => {
    if (loaded && job && job.status !== loaded.status && !ACTIVE.includes(job.status)) refetch({ requestPolicy: "network-only" });
  }, [job?.status]);
  if (result.error) return <main id="main" tabIndex={-1} class="page"><ErrorMessage error={result.error} /></main>;
  if (!result.data) return <main id="main" tabIndex={-1} class="page"><p class="loading">Loading…</p></main>;
  if (!job || !loaded) return <main id="main" tabIndex={-1} class="page"><h1>Job not found</h1></main>;
  const assets = [...loaded.assets.nodes, ...arrived.filter((a) => !loaded.assets.nodes.some((b) => b.id === a.id))];
  const byNode = new Map<string, CardFieldsFragment[]>();
  for (const asset of assets) {
    const key = asset.nodeId ?? "(no node)";
    byNode.set(key, [...(byNode.get(key) ?? []), asset]);
  }
  const outputs = (job as { outputs?: unknown }).outputs ?? loaded.outputs;
  return (
    <main id="main" tabIndex={-1} class="page">
      <nav class="crumbs" aria-label="Breadcrumb">
        <Link href="/jobs">Jobs</Link> / <span>{job.id}</span>
      </nav>
      <div class="page-head">
        <h1>
          Job {job.id} <StatusBadge status={job.status} />
        </h1>
        {active && (
          <button type="button" class="danger" disabled={cancelled.fetching} onClick={() => cancel({ id: job.id })}>
            Cancel job
          </button>
        )}
      </div>
      {cancelled.error && <ErrorMessage error={cancelled.error} />}
      <dl class="inline-facts">
        <dt>Workflow</dt>
        <dd>{job.workflowId ? <Link href={`/workflows/${encodeURIComponent(job.workflowId)}`}>{names.get(job.workflowId) ?? job.workflowId}</Link> : "inline graph"}</dd>
        <dt>Created</dt>
        <dd>{when(job.createdAt)}</dd>
        <dt>Started</dt>
        <dd>{when(job.startedAt)}</dd>
        <dt>Finished</dt>
        <dd>{when(job.finishedAt)}</dd>
      </dl>
      {job.error && (
        <div class="job-error" role="alert">
          <h2>Failed{job.failedNodeId ? ` at node ${job.failedNodeId}` : ""}</h2>
          <pre>{job.error}</pre>
        </div>
      )}
      {outputs != null && typeof outputs === "object" && Object.keys(outputs).length > 0 && (
        <section>
          <h2>Outputs</h2>
          <dl class="outputs">
            {Object.entries(outputs as Record<string, unknown>).map(([name, value]) => (
              <>
                <dt>{name}</dt>
                <dd>
                  <OutputValue value={value} />
                </dd>
              </>
            ))}
          </dl>
        </section>
      )}
      <section>
        <h2>
          Saved assets <span class="muted">({assets.length})</span>{" "}
          <Link class="small" href={withQuery("/", { job: job.id })}>
            open in gallery
          </Link>
        </h2>
        {assets.length > 0 && <DownloadAll filter={{ jobId: job.id }} label="Download this job's assets" />}
        {loaded.assets.totalCount > loaded.assets.nodes.length && (
          <p class="notice">
            Showing {loaded.assets.nodes.length} of {loaded.assets.totalCount}: the gallery shows them all.
          </p>
        )}
        {assets.length === 0 && <p class="muted">{active ? "Waiting for the first asset…" : "This job saved no assets."}</p>}
        <div class="node-groups">
        {[...byNode.entries()].map(([node, list]) => (
          <section key={node} class="node-group" aria-label={`Node ${node}`}>
            <h3>
              Node <Link href={withQuery("/", { node })}>{node}</Link> <span class="muted">({list.length})</span>
            </h3>
            <ul class="grid" onKeyDown={gridKeys}>
              {list.map((asset) => (
                <AssetCard key={asset.id} asset={asset} />
              ))}
            </ul>
          </section>
        ))}
        </div>
      </section>
    </main>
  );
}
