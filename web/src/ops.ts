// Every operation the app sends: GraphQL Code Generator types them from ../schema.graphql.
import { graphql } from "./gql";

export const CardFields = graphql(`
  fragment CardFields on Asset {
    id
    name
    contentType
    size
    createdAt
    nodeId
    jobId
    workflowId
    thumbnailUrl
    url
    tags
  }
`);

export const GalleryQuery = graphql(`
  query Gallery(
    $nodeId: String
    $jobId: String
    $workflowId: String
    $contentType: String
    $parentId: ID
    $search: String
    $createdAfter: DateTime
    $createdBefore: DateTime
    $tags: [String!]
    $metadata: JSON
    $orderBy: AssetOrder
    $first: Int
    $after: String
  ) {
    assets(
      nodeId: $nodeId
      jobId: $jobId
      workflowId: $workflowId
      contentType: $contentType
      parentId: $parentId
      search: $search
      createdAfter: $createdAfter
      createdBefore: $createdBefore
      tags: $tags
      metadata: $metadata
      orderBy: $orderBy
      first: $first
      after: $after
    ) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        ...CardFields
      }
    }
  }
`);

export const FilterChoicesQuery = graphql(`
  query FilterChoices {
    nodes: assetStats(groupBy: NODE) {
      key
      count
    }
    jobs: assetStats(groupBy: JOB) {
      key
      count
    }
    workflows: assetStats(groupBy: WORKFLOW) {
      key
      count
    }
    types: assetStats(groupBy: CONTENT_TYPE) {
      key
      count
    }
  }
`);

export const AssetCreatedSubscription = graphql(`
  subscription AssetCreated($nodeId: String, $jobId: String, $workflowId: String) {
    assetCreated(nodeId: $nodeId, jobId: $jobId, workflowId: $workflowId) {
      ...CardFields
      parentId
      metadata
    }
  }
`);

export const AssetQuery = graphql(`
  query Asset($id: ID!) {
    asset(id: $id) {
      ...CardFields
      sha256
      updatedAt
      metadata
      tags
      parentId
      parent {
        id
        name
      }
      job {
        id
        status
      }
      derivedFrom {
        ...CardFields
      }
      derivatives(first: 24) {
        totalCount
        nodes {
          ...CardFields
        }
      }
    }
  }
`);

export const FoldersQuery = graphql(`
  query Folders {
    assets(contentType: "folder", orderBy: NAME_ASC, first: 100) {
      nodes {
        id
        name
        parentId
      }
    }
  }
`);

export const FolderQuery = graphql(`
  query Folder($id: ID!) {
    asset(id: $id) {
      id
      name
      contentType
      parent {
        id
        name
      }
    }
  }
`);

export const UpdateAssetMutation = graphql(`
  mutation UpdateAsset($id: ID!, $input: UpdateAssetInput!) {
    updateAsset(id: $id, input: $input) {
      id
      name
      parentId
      updatedAt
    }
  }
`);

export const DeleteAssetMutation = graphql(`
  mutation DeleteAsset($id: ID!) {
    deleteAsset(id: $id) {
      deletedCount
    }
  }
`);

export const CreateFolderMutation = graphql(`
  mutation CreateFolder($input: CreateFolderInput!) {
    createFolder(input: $input) {
      id
      name
      parentId
    }
  }
`);

export const CreateUploadMutation = graphql(`
  mutation CreateUpload($input: CreateUploadInput!) {
    createUpload(input: $input) {
      id
      partSize
      parts {
        partNumber
        url
        headers
      }
    }
  }
`);

export const CompleteUploadMutation = graphql(`
  mutation CompleteUpload($id: ID!, $parts: [CompletedPartInput!]!) {
    completeUpload(id: $id, parts: $parts) {
      id
      name
      contentType
      size
      sha256
    }
  }
`);

export const AbortUploadMutation = graphql(`
  mutation AbortUpload($id: ID!) {
    abortUpload(id: $id)
  }
`);

export const ViewerQuery = graphql(`
  query Viewer {
    viewer {
      id
      name
    }
  }
`);

export const TagChoicesQuery = graphql(`
  query TagChoices($prefix: String) {
    assetTags(prefix: $prefix, first: 50) {
      tag
      count
    }
  }
`);

export const TagAssetMutation = graphql(`
  mutation TagAsset($id: ID!, $tags: [String!]!) {
    tagAssets(filter: { ids: [$id] }, tags: $tags)
  }
`);

export const UntagAssetMutation = graphql(`
  mutation UntagAsset($id: ID!, $tags: [String!]!) {
    untagAssets(filter: { ids: [$id] }, tags: $tags)
  }
`);

export const JobFields = graphql(`
  fragment JobFields on Job {
    id
    workflowId
    status
    error
    failedNodeId
    createdAt
    startedAt
    finishedAt
  }
`);

export const JobsQuery = graphql(`
  query Jobs($status: JobStatus, $workflowId: String, $first: Int, $after: String) {
    jobs(status: $status, workflowId: $workflowId, first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        ...JobFields
      }
    }
  }
`);

export const JobQuery = graphql(`
  query Job($id: ID!) {
    job(id: $id) {
      ...JobFields
      outputs
      assets(first: 100) {
        totalCount
        nodes {
          ...CardFields
        }
      }
    }
  }
`);

export const JobUpdatedSubscription = graphql(`
  subscription JobUpdated($id: ID!) {
    jobUpdated(id: $id) {
      ...JobFields
      outputs
    }
  }
`);

export const CancelJobMutation = graphql(`
  mutation CancelJob($id: ID!) {
    cancelJob(id: $id) {
      ...JobFields
    }
  }
`);

export const WorkflowsQuery = graphql(`
  query Workflows($first: Int, $after: String) {
    workflows(first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      nodes {
        id
        name
        updatedAt
        jobs(first: 1) {
          totalCount
          nodes {
            id
            status
            createdAt
          }
        }
      }
    }
  }
`);

export const WorkflowQuery = graphql(`
  query Workflow($id: ID!) {
    workflow(id: $id) {
      id
      name
      graph
      createdAt
      updatedAt
      jobs(first: 20) {
        totalCount
        nodes {
          ...JobFields
        }
      }
    }
  }
`);

export const RunWorkflowMutation = graphql(`
  mutation RunWorkflow($input: RunWorkflowInput!) {
    runWorkflow(input: $input) {
      ...JobFields
    }
  }
`);

export const WorkflowNamesQuery = graphql(`
  query WorkflowNames {
    workflows(first: 100) {
      nodes {
        id
        name
      }
    }
  }
`);

export const ArchiveUrlQuery = graphql(`
  query ArchiveUrl($filter: AssetFilter!) {
    assetArchiveUrl(filter: $filter)
  }
`);
