// The registry stage: an OCI Distribution client and pushImage.
export { BasicAuth, DockerAuth, type RegistryAuth } from './auth.js';
export { pullScope, pushScope } from './scopes.js';
export { MANIFEST_ACCEPT, MEDIA_TYPES, RegistryClient, TransientRegistryError, type RegistryClientOptions } from './client.js';
export { resolveCredentials, type CredentialOptions, type Credentials } from './credentials.js';
export { readLayoutImage } from '../oci/layout.js';
export { headAvailability, pushImage, pushTargetFor, writeImageToRegistry, type BlobAvailability, type PushImageOptions, type PushResult, type PushTarget, type WriteToRegistryOptions } from './push.js';
export { formatReference, isLoopbackHost, parseReference, type ImageReference } from './reference.js';
export { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
export { ECR_CHUNK_SIZE, uploadBlob, type BlobSource, type UploadOptions, type UploadResult } from './upload.js';
export { UploadSessions, uploadSessionsDir, type SavedUpload, type UploadKey } from './upload-sessions.js';
export { EcrTokenAuth, type EcrToken } from './ecr-auth.js';
export { isEcrHost, parseEcrHost, type EcrHost } from './ecr-host.js';
export { EcrApi, ecrTarget, isTagImmutable, ECR_DEFAULT_CONCURRENCY, ECR_ENDPOINT_ENV, type EcrOptions, type EcrTarget, type EcrTargetOptions } from './ecr.js';
export {
  BUILD_RECORD_ARTIFACT_TYPE,
  BUILD_RECORD_GZIP_TYPE,
  buildRecordArtifact,
  DamagedRecordError,
  fetchBuildRecordFor,
  fetchLineRecord,
  locateBuildRecordFor,
  lineTag,
  pushBuildRecord,
  recordIndex,
  recordTag,
  type FoundBuildRecord,
  type PushBuildRecordOptions,
  type PushBuildRecordResult,
} from './artifact.js';
export { BLOB_SOURCE_ANNOTATION, PARTIAL_ANNOTATION, fetchMissingBlobs, markPartial, missingBlobs, readCompleteLayoutImage } from './partial-layout.js';
export { uploadBlobsToTargets, type BlobTarget, type BlobTargetResult, type UploadToTargetsOptions, type UploadToTargetsResult } from './multi-push.js';
export { SharedBlobReads, type SharedBlobSource } from './shared-read.js';
export {
  REPLICATION_TIMEOUT_ENV,
  replicatedDestinations,
  replicationTimeoutMs,
  waitForReplication,
  type ReplicationDestination,
  type ReplicationWaitResult,
  type WaitForReplicationOptions,
} from './ecr-replication.js';
