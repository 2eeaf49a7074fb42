export {
  FileSigner,
  DoubleSignError,
  SignerStateError,
  SignStep,
  INITIAL_SIGN_STATE,
  signStateFromJson,
  signStateToJson,
  type Signer,
  type FileSignerOptions,
  type LastSignState,
  type DoubleSignKind,
} from './signer.js';
